"""Read a W&B offline run file (``run-<id>.wandb``) with wandb's own record schema; print it as JSON.

    python wandb_reader.py RUN_FILE...

Run as a child process by ``nbtrack.interop.wandb`` with a Python that has wandb (this file
imports only the standard library and wandb). wandb 0.19+ no longer ships a Python reader
for these files (its Go core reads them), but it ships the protobuf classes of their records;
the framing is a LevelDB-style log: a 7-byte file header (``:W&B``, 0xBEE1, version), then
32 KiB blocks of records, each with a 7-byte header (CRC-32, length, type FULL / FIRST /
MIDDLE / LAST).
"""

import json
import struct
import sys
import zlib

if sys.path and sys.path[0] == __import__("os").path.dirname(__import__("os").path.abspath(__file__)):
    del sys.path[0]  # run as a script from inside nbtrack/interop: its modules must not shadow the real packages

BLOCK = 32768
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path):
    """The payload of every record in the file, in order; a torn last record (a crash) is dropped."""
    with open(path, "rb") as handle:
        data = handle.read()
    ident, magic, _version = struct.unpack("<4sHB", data[:HEADER])
    if ident != b":W&B" or magic != 0xBEE1:
        raise ValueError(f"{path} is not a W&B run file")
    position, pending = HEADER, b""
    while position + HEADER <= len(data):
        left = BLOCK - position % BLOCK
        if left < HEADER:
            position += left
            continue
        checksum, length, kind = struct.unpack("<IHB", data[position:position + HEADER])
        payload = data[position + HEADER:position + HEADER + length]
        position += HEADER + length
        if length == 0 and kind == 0:  # zero padding at the end of a block
            continue
        if len(payload) < length or zlib.crc32(bytes([kind]) + payload) & 0xFFFFFFFF != checksum:
            break
        if kind == FULL:
            yield payload
        elif kind == FIRST:
            pending = payload
        elif kind == MIDDLE:
            pending += payload
        elif kind == LAST:
            yield pending + payload
            pending = b""


def _items(update):
    out = {}
    for item in update:
        key = "/".join(list(item.nested_key)) if item.nested_key else item.key
        out[key] = json.loads(item.value_json)
    return out


def read_run(path):
    from wandb.proto import wandb_internal_pb2 as pb

    run = {"config": {}, "history": [], "summary": {}, "tags": [], "exit_code": None, "files": []}
    for payload in records(path):
        record = pb.Record()
        record.ParseFromString(payload)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            info = record.run
            run.update(id=info.run_id, name=info.display_name, project=info.project, entity=info.entity,
                       group=info.run_group, job_type=info.job_type, notes=info.notes, tags=list(info.tags),
                       start_time=info.start_time.seconds + info.start_time.nanos / 1e9)
            run["config"].update({k: v.get("value", v) if isinstance(v, dict) else v
                                  for k, v in _items(info.config.update).items()})
        elif kind == "config":
            run["config"].update({k: v.get("value", v) if isinstance(v, dict) else v
                                  for k, v in _items(record.config.update).items()})
        elif kind == "history":
            values = _items(record.history.item)
            step = record.history.step.num if record.history.HasField("step") else values.get("_step")
            run["history"].append({"step": step, "values": values})
        elif kind == "summary":
            run["summary"].update(_items(record.summary.update))
        elif kind == "exit":
            run["exit_code"] = record.exit.exit_code
            run["runtime"] = record.exit.runtime
        elif kind == "files":
            run["files"].extend(f.path for f in record.files.files)
    return run


def main():
    """One JSON line per run file named on the command line: ``{"path", "run"}`` or ``{"path", "error"}``."""
    try:
        import wandb.proto.wandb_internal_pb2  # noqa: F401
    except ImportError as error:
        print(json.dumps({"fatal": f"{type(error).__name__}: {error}"}))
        return 1
    for path in sys.argv[1:]:
        try:
            line = {"path": path, "run": read_run(path)}
        except Exception as error:  # noqa: BLE001 - one unreadable file, the others go on
            line = {"path": path, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(line, default=str))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
