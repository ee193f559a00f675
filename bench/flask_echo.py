# The usual self-hosted scoring server, for the benchmark's comparison: a Flask app under
# gunicorn that checks an API key header and answers the JSON it was sent (the same echo
# the Tessera measurement deploys). Run by bench/scoring.mjs with Debian's gunicorn and
# python3-flask; BENCH_KEY is the key it accepts.
import hmac
import os

from flask import Flask, jsonify, request

app = Flask(__name__)
KEY = ("Bearer " + os.environ["BENCH_KEY"]).encode()


@app.post("/score")
def score():
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, KEY):
        return jsonify(error="unauthorized"), 401
    data = request.get_json(silent=True)
    if data is None:
        return jsonify(error="the body is not JSON"), 400
    return jsonify(data)
