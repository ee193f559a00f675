/** Entry scripts the web-service tests deploy. */

/** Python: prints at init, answers `{"echo": <the parsed body>}`. */
export const PY_ECHO = `import json\n\ndef init():\n    print("python echo ready")\n\ndef run(raw_data):\n    return {"echo": json.loads(raw_data)}\n`;
/** JavaScript: logs at init, answers `{ echo: input }`. */
export const JS_ECHO = `export function init() { console.log('js echo ready'); }\nexport function run(input) { return { echo: input }; }\n`;
/** Python whose init() prints, then raises: the deployment fails. */
export const PY_BROKEN = `def init():\n    print("loading the weights")\n    raise ValueError("weights file is corrupt")\n\ndef run(raw_data):\n    return raw_data\n`;
