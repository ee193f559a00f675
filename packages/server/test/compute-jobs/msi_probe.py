# A run's script with the standard library only, as Azure's docs show: the MSI_ENDPOINT
# shape (Metadata + secret), then the refusals, then what the run token may and may not do.
import json, os, sys, urllib.error, urllib.request
from tessera_run import Run

run = Run.get_context()

def get(url, headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")

endpoint, secret = os.environ["MSI_ENDPOINT"], os.environ["MSI_SECRET"]
ok = endpoint + "?api-version=2017-09-01&resource=https://ml.azure.com"
status, body = get(ok, {"Metadata": "true", "secret": secret})
run.log("msi_ok", status)
run.log("msi_resource_echo", body.get("resource") == "https://ml.azure.com")
run.log("msi_no_secret", get(ok, {"Metadata": "true"})[0])
run.log("msi_wrong_secret", get(ok, {"Metadata": "true", "secret": "tsms_" + "x" * 43})[0])
run.log("msi_no_metadata", get(ok, {"secret": secret})[0])
run.log("msi_unknown_client", get(ok + "&clientid=00000000-0000-0000-0000-000000000000", {"Metadata": "true", "secret": secret})[0])
run.log("msi_foreign_resource", get(endpoint + "?api-version=2017-09-01&resource=https://graph.microsoft.com", {"Metadata": "true", "secret": secret})[0])

base = os.environ["AZUREML_SERVICE_ENDPOINT"]
token = os.environ["AZUREML_RUN_TOKEN"]
ws = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.MachineLearningServices/workspaces/%s" % (
    os.environ["AZUREML_ARM_SUBSCRIPTION"], os.environ["AZUREML_ARM_RESOURCEGROUP"], os.environ["AZUREML_ARM_WORKSPACE_NAME"])

def with_token(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path + ("&" if "?" in path else "?") + "api-version=2024-04-01", data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code

run.log("own_run", with_token("GET", ws + "/jobs/" + os.environ["AZUREML_RUN_ID"]))
run.log("other_run", with_token("GET", ws + "/jobs/" + sys.argv[1]))
run.log("workspace_write", with_token("PUT", ws, {"location": "local"}))
run.log("role_assignments", with_token("GET", ws + "/providers/Microsoft.Authorization/roleAssignments"))
run.log("services", with_token("GET", ws + "/onlineEndpoints"))
run.log("models", with_token("GET", ws + "/models"))
run.log("directory", with_token("GET", "/me"))
run.log("submit_job", with_token("PUT", ws + "/jobs/spawned", {"properties": {"command": "python x.py"}}))
run.upload_file("outputs/uploaded.txt", __file__)
open("outputs/run_token.txt", "w").write(token)
open("outputs/answer.txt", "w").write("42")
print("probe done")
