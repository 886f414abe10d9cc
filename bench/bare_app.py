"""The floor for bench/api.py: a bare Flask JSON endpoint served the same way as the coach."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare():
    return jsonify({"ok": True})
