"""A media stream agent that answers with speech (espeak-ng), with nothing
but the standard library and the `websockets` package.

    .venv/bin/python tts_agent.py HOST:PORT SECRET [--public-url wss://agent.example.com] [--voice en]

Dialtone opens a WebSocket to it for a call (Twilio Media Streams'
messages). It checks the upgrade's X-Dialtone-Signature (HMAC-SHA256 of
"<t>." + the stream URL with SECRET) and answers 401 when it does not
verify. Then it greets the caller (the stream parameter "greeting", or a
default), answers each key with "You pressed N", sends a mark after each
sentence and prints the marks Dialtone echoes once the sentence has been
played. '#' hangs up (Dialtone's hangup extension). One line per event on
stdout.
"""

import argparse
import array
import asyncio
import base64
import hashlib
import hmac
import http
import json
import sys
import time

from websockets.asyncio.server import serve

TOLERANCE = 300  # seconds a signature's t may be off
FRAME = 160  # 20 ms of 8 kHz µ-law
LEAD = 0.4  # seconds of audio sent ahead of playback (Dialtone holds one second)


def verify(secret: bytes, header: str, url: str) -> bool:
    """X-Dialtone-Signature: t=<unix>,v1=<hex>[,v1=<hex>] over "<t>." + url."""
    t, sigs = "", []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            t = value
        elif key == "v1":
            sigs.append(value.encode())
    if not (t.isascii() and t.isdigit()) or not sigs:
        return False
    expected = hmac.new(secret, t.encode() + b"." + url.encode(), hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, s) for s in sigs):
        return False
    return abs(time.time() - int(t)) <= TOLERANCE


def _ulaw(sample: int) -> int:
    """G.711 µ-law of one 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), 32635) + 0x84
    exp, mask = 7, 0x4000
    while exp > 0 and not sample & mask:
        exp, mask = exp - 1, mask >> 1
    return ~(sign | exp << 4 | (sample >> (exp + 3)) & 0x0F) & 0xFF


ULAW = bytes(_ulaw(i - 65536 if i >= 32768 else i) for i in range(65536))


def wav_pcm(wav: bytes):
    """The samples and rate of a 16-bit mono WAV (espeak-ng --stdout)."""
    rate = int.from_bytes(wav[24:28], "little")
    pos = 12
    while pos + 8 <= len(wav):
        kind, size = wav[pos:pos + 4], int.from_bytes(wav[pos + 4:pos + 8], "little")
        if kind == b"data":
            data = wav[pos + 8:]
            samples = array.array("h")
            samples.frombytes(data[: len(data) // 2 * 2])
            if sys.byteorder == "big":
                samples.byteswap()
            return samples, rate
        pos += 8 + size
    raise ValueError("no data chunk")


def to_ulaw_8k(samples, rate: int) -> bytes:
    """Resample to 8 kHz (a 3-tap average against aliasing, then linear
    interpolation) and encode to µ-law."""
    if len(samples) < 3:
        return b""
    smooth = [(samples[max(i - 1, 0)] + 2 * samples[i] + samples[min(i + 1, len(samples) - 1)]) // 4 for i in range(len(samples))]
    step = rate / 8000
    out = bytearray()
    pos = 0.0
    while pos < len(smooth) - 1:
        i = int(pos)
        frac = pos - i
        s = int(smooth[i] * (1 - frac) + smooth[i + 1] * frac)
        out.append(ULAW[s & 0xFFFF])
        pos += step
    return bytes(out)


async def tts(text: str, voice: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        "espeak-ng", "-v", voice, "--stdout", text, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    wav, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"espeak-ng exited {proc.returncode}")
    return to_ulaw_8k(*wav_pcm(wav))


def say(line: str) -> None:
    print(line, flush=True)


async def speaker(ws, sid: str, queue: asyncio.Queue, voice: str) -> None:
    """Speaks each (mark, text) of queue, paced LEAD ahead of playback, and
    sends the mark after it."""
    loop = asyncio.get_running_loop()
    play_end = 0.0
    while True:
        mark, text = await queue.get()
        audio = await tts(text, voice)
        for i in range(0, len(audio), FRAME):
            frame = audio[i:i + FRAME].ljust(FRAME, b"\xff")
            now = loop.time()
            play_end = max(play_end, now) + 0.02
            if play_end - now > LEAD:
                await asyncio.sleep(play_end - now - LEAD)
            await ws.send(json.dumps({"event": "media", "streamSid": sid, "media": {"payload": base64.b64encode(frame).decode()}}))
        await ws.send(json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": mark}}))
        say(f"said {mark} {len(audio) // FRAME} frames")


async def handle(ws, voice: str) -> None:
    start = None
    async for raw in ws:
        msg = json.loads(raw)
        if msg.get("event") == "start":
            start = msg["start"]
            break
    if start is None:
        return
    sid, call = start["streamSid"], start["callSid"]
    params = start.get("customParameters") or {}
    say(f"start {call} {sid} {json.dumps(params, sort_keys=True, ensure_ascii=False)}")
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(speaker(ws, sid, queue, voice))
    await queue.put(("greeting", params.get("greeting", "Hello, this is the Dialtone agent. Press a key.")))
    media = 0
    try:
        async for raw in ws:
            msg = json.loads(raw)
            event = msg.get("event")
            if event == "media":
                media += 1
            elif event == "dtmf":
                digit = msg["dtmf"]["digit"]
                say(f"dtmf {digit}")
                if digit == "#":
                    await ws.send(json.dumps({"event": "hangup", "streamSid": sid, "hangup": {"reason": "caller pressed #"}}))
                else:
                    await queue.put((f"dtmf-{digit}", f"You pressed {digit}."))
            elif event == "mark":
                say(f"mark {msg['mark']['name']}")
            elif event == "stop":
                say(f"stop {call} media {media}")
                break
    finally:
        task.cancel()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("listen", help="HOST:PORT")
    ap.add_argument("secret", help="the stream signing secret")
    ap.add_argument("--public-url", default="", help="scheme and host Dialtone dials, behind a proxy (wss://…)")
    ap.add_argument("--voice", default="en")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    secret = args.secret.encode()

    def check(connection, request):
        base = args.public_url.rstrip("/") or "ws://" + request.headers.get("Host", "")
        if not verify(secret, request.headers.get("X-Dialtone-Signature", ""), base + request.path):
            say("refused an upgrade: signature")
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "bad or missing X-Dialtone-Signature\n")
        return None

    async def run():
        async with serve(lambda ws: handle(ws, args.voice), host, int(port), process_request=check) as server:
            say(f"listening {args.listen}")
            await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
