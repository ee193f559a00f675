"""The run's side of Tessera, for Python scripts, with the standard library only.

    from tessera_run import Run
    run = Run.get_context()
    run.log("accuracy", 0.93)
    run.upload_file("outputs/report.txt", "report.txt")

Inside a run it talks to the server with the run token (AZUREML_RUN_TOKEN), which acts
for this run alone. Outside one, get_context() returns an offline run that prints what
it logs, as Azure ML's does.
"""
import json
import os
import ssl
import urllib.parse
import urllib.request
import uuid

API_VERSION = "2024-04-01"


class _OfflineRun:
    def __init__(self):
        self.id = "OfflineRun_" + uuid.uuid4().hex
        self.experiment_name = None

    def log(self, name, value, step=None):
        print("%s: %s" % (name, value))

    def log_list(self, name, values):
        for v in values:
            self.log(name, v)

    def upload_file(self, name, path_or_stream):
        pass

    def flush(self):
        pass


class Run:
    """The current run, authenticated with its run token."""

    def __init__(self, env=None):
        env = os.environ if env is None else env
        self.id = env["AZUREML_RUN_ID"]
        self.experiment_name = env.get("AZUREML_ARM_PROJECT_NAME", "")
        self._token = env["AZUREML_RUN_TOKEN"]
        base = env["AZUREML_SERVICE_ENDPOINT"].rstrip("/")
        self._job = "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.MachineLearningServices/workspaces/%s/jobs/%s" % (
            base,
            urllib.parse.quote(env["AZUREML_ARM_SUBSCRIPTION"]),
            urllib.parse.quote(env["AZUREML_ARM_RESOURCEGROUP"]),
            urllib.parse.quote(env["AZUREML_ARM_WORKSPACE_NAME"]),
            urllib.parse.quote(self.id),
        )
        self._context = ssl.create_default_context()
        extra = env.get("NODE_EXTRA_CA_CERTS")
        if extra and os.path.exists(extra):
            self._context.load_verify_locations(extra)

    @staticmethod
    def get_context():
        if all(os.environ.get(k) for k in ("AZUREML_RUN_ID", "AZUREML_RUN_TOKEN", "AZUREML_SERVICE_ENDPOINT", "AZUREML_ARM_SUBSCRIPTION")):
            return Run()
        return _OfflineRun()

    def _call(self, method, suffix, body=None, content_type="application/json"):
        url = "%s%s%sapi-version=%s" % (self._job, suffix, "&" if "?" in suffix else "?", API_VERSION)
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self._token)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, context=self._context, timeout=60) as response:
                text = response.read().decode()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            try:
                detail = json.loads(detail)["error"]["message"]
            except Exception:
                pass
            raise RuntimeError("Tessera refused %s %s (%d): %s" % (method, suffix or "the run", error.code, detail)) from None

    def log(self, name, value, step=None):
        metric = {"name": name, "value": value}
        if step is not None:
            metric["step"] = step
        self._call("POST", "/metrics", {"metrics": [metric]})

    def log_list(self, name, values):
        self._call("POST", "/metrics", {"metrics": [{"name": name, "value": v} for v in values]})

    def get_metrics(self):
        out = {}
        for m in self._call("GET", "/metrics")["value"]:
            out.setdefault(m["name"], []).append(m["value"])
        return {k: v[0] if len(v) == 1 else v for k, v in out.items()}

    def get_status(self):
        return self._call("GET", "")["properties"]["status"]

    def get_details(self):
        return self._call("GET", "")

    def upload_file(self, name, path_or_stream):
        if hasattr(path_or_stream, "read"):
            content = path_or_stream.read()
        else:
            with open(path_or_stream, "rb") as f:
                content = f.read()
        boundary = uuid.uuid4().hex
        head = ('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' % (boundary, name.replace('"', "%22"))).encode()
        body = head + content + ("\r\n--%s--\r\n" % boundary).encode()
        self._call("POST", "/artifacts", body, "multipart/form-data; boundary=" + boundary)

    def get_file_names(self):
        return [a["path"] for a in self._call("GET", "/artifacts")["value"]]

    def flush(self):
        pass
