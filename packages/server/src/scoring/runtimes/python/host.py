"""The host of one Python worker of a Tessera web service (started by pythonRuntime.ts).

Requests come in on fd 3 and answers go out on fd 4, one JSON object per line, so the
entry script's print() (stdout) and errors (stderr) go to the service's logs. The first
line on fd 3 is the configuration:
  {"directory", "entryScript", "memoryMb", "contract": {"kind": "azureml"} |
   {"kind": "mlserver", "initCode", "inputs": [names], "outputs": [names]}}
The host answers {"ready": true} or {"initError": "..."} (then exits); then each request
("R<id> <body>", or "Q<id> <body as a JSON string>" when the body has a line break) gets
"J<id> <the answer's JSON>" or "E<id> <the refusal's message as a JSON string>": the
answer's JSON is passed on as it is, never parsed again (processWorker.ts).
A MemoryError ends the process with EXIT_OUT_OF_MEMORY: its heap may be unusable.
"""
import contextlib
import importlib.util
import io
import json
import os
import resource
import sys
import traceback

EXIT_OUT_OF_MEMORY = 75
MAX_MESSAGE = 1000


def describe(error):
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


def report(what, error):
    """Logs the traceback (to the service's logs) and returns the message for the answer."""
    if isinstance(error, MemoryError):
        out_of_memory()
    traceback.print_exc(file=sys.stderr)
    sys.stderr.flush()
    return f"{what} raised {describe(error)}"


def out_of_memory():
    try:
        sys.stderr.write("the worker ran out of memory\n")
        sys.stderr.flush()
    finally:
        os._exit(EXIT_OUT_OF_MEMORY)


def limit_memory(megabytes):
    # RLIMIT_AS caps virtual address space, not resident memory: libraries that reserve
    # large address ranges (OpenBLAS thread buffers, some allocators) need more than they
    # use, so a limit close to a script's real use may fail its imports.
    limit = int(megabytes) * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and hard < limit:
        limit = hard
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def load_entry(directory, entry_script):
    spec = importlib.util.spec_from_file_location(os.path.splitext(entry_script)[0], os.path.join(directory, entry_script))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Tee(io.TextIOBase):
    """One request's stdout: kept as its console output and still written to the logs."""

    def __init__(self, real):
        self.real = real
        self.buffer_ = io.StringIO()

    def write(self, text):
        self.buffer_.write(text)
        self.real.write(text)
        return len(text)

    def flush(self):
        self.real.flush()


def azureml_handler(config):
    try:
        module = load_entry(config["directory"], config["entryScript"])
    except BaseException as error:  # noqa: BLE001 - a SystemExit in the script is an init failure too
        raise InitError(report("loading the entry script", error))
    run = getattr(module, "run", None)
    if not callable(run):
        raise InitError("the entry script defines no run() function")
    init = getattr(module, "init", None)
    if init is not None:
        if not callable(init):
            raise InitError("the entry script's init is not a function")
        try:
            init()
        except Exception as error:
            raise InitError(report("init()", error))

    def handle(body):
        # Azure ML's contract hands run() the body as sent, but only a JSON body is scored:
        # checked here, in the worker, so the server's event loop never parses it.
        try:
            json.loads(body)
        except ValueError as error:
            return False, f"the body is not JSON: {describe(error)}"
        try:
            result = run(body)
        except Exception as error:
            return False, report("run()", error)
        try:
            return True, json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as error:
            return False, f"the value run() returned is not JSON-serializable: {describe(error)}"

    return handle


def mlserver_handler(config):
    contract = config["contract"]
    with open(os.path.join(config["directory"], config["entryScript"]), encoding="utf-8") as file:
        code_text = file.read()
    init_namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(compile(contract.get("initCode") or "", "initCode", "exec"), init_namespace)
        code = compile(code_text, "code", "exec")
    except Exception as error:
        raise InitError(report("initCode", error))
    inputs, outputs = contract["inputs"], contract["outputs"]

    def handle(body):
        try:
            given = json.loads(body)
        except ValueError as error:
            return False, f"the body is not JSON: {describe(error)}"
        if not isinstance(given, dict):
            return False, "the body must be a JSON object of the input parameters"
        unknown = [name for name in given if name not in inputs]
        if unknown:
            return False, f"unknown input parameter(s): {', '.join(unknown)}; the service declares: {', '.join(inputs) or 'none'}"
        missing = [name for name in inputs if name not in given]
        if missing:
            return False, f"missing input parameter(s): {', '.join(missing)}"
        namespace = dict(init_namespace)
        namespace.update(given)
        console = Tee(sys.stdout)
        try:
            with contextlib.redirect_stdout(console):
                exec(code, namespace)
        except Exception as error:
            return False, report("code", error)
        values = {name: namespace.get(name) for name in outputs}
        for name, value in values.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as error:
                return False, f"output '{name}' is not JSON-serializable: {describe(error)}"
        return True, json.dumps({"outputs": values, "console": console.buffer_.getvalue()})

    return handle


class InitError(Exception):
    pass


def main():
    requests = os.fdopen(3, "rb")
    answers = os.fdopen(4, "wb")

    def answer(message):
        answers.write(json.dumps(message).encode("utf-8") + b"\n")
        answers.flush()

    config = json.loads(requests.readline())
    directory = config["directory"]
    # The script's directory first, as when Azure ML runs score.py; not this host's.
    sys.path[:] = [directory] + [p for p in sys.path[1:] if p != os.path.dirname(os.path.abspath(__file__))]
    os.chdir(directory)
    try:
        limit_memory(config["memoryMb"])
        make = mlserver_handler if config["contract"]["kind"] == "mlserver" else azureml_handler
        handle = make(config)
    except InitError as error:
        answer({"initError": str(error)})
        return
    except MemoryError:
        out_of_memory()
    answer({"ready": True})
    for line in requests:
        # "R<id> <body>": the body as sent (it has no line break); "Q<id> <JSON string>": one that has.
        space = line.index(b" ")
        request_id = int(line[1:space])
        rest = line[space + 1:].rstrip(b"\n")
        body = rest.decode("utf-8") if line[:1] == b"R" else json.loads(rest)
        try:
            ok, result = handle(body)
        except MemoryError:
            out_of_memory()
        sys.stdout.flush()
        # "J<id> <json>" (json.dumps writes one line) or "E<id> <JSON string of the message>".
        if ok:
            answers.write(b"J%d %s\n" % (request_id, result.encode("utf-8")))
        else:
            answers.write(b"E%d %s\n" % (request_id, json.dumps(result).encode("utf-8")))
        answers.flush()

if __name__ == "__main__":
    main()
