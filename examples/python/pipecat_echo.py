"""An echo agent whose message handling is pipecat's, unchanged: pipecat's
own telephony handshake parser (pipecat.runner.utils.parse_telephony_websocket)
recognises Dialtone's stream as Twilio's, and pipecat's TwilioFrameSerializer
turns every message into pipecat frames and pipecat frames into messages.
What the call says comes back (through pipecat's resamplers, 8 kHz to the
pipeline's 16 kHz and back); a key clears what is queued (pipecat's
interruption) and sends a mark (a pipecat output transport message).

    .venv-pipecat/bin/python pipecat_echo.py HOST:PORT

It serves plain WebSockets without checking signatures (see tts_agent.py
for that); one line per event on stdout.
"""

import asyncio
import json
import sys

from websockets.asyncio.server import serve

from pipecat.frames.frames import (
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
)
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer


def say(line: str) -> None:
    print(line, flush=True)


class Socket:
    """What parse_telephony_websocket reads of a FastAPI WebSocket:
    iter_text(), over a websockets connection."""

    def __init__(self, ws):
        self._ws = ws

    def iter_text(self):
        return self._texts()

    async def _texts(self):
        async for message in self._ws:
            yield message


async def handle(ws) -> None:
    kind, call = await parse_telephony_websocket(Socket(ws))
    say(f"transport {kind} {call['stream_id']} {call['call_id']} {json.dumps(call['body'], sort_keys=True)}")
    if kind != "twilio":
        return
    serializer = TwilioFrameSerializer(
        stream_sid=call["stream_id"],
        call_sid=call["call_id"],
        params=TwilioFrameSerializer.InputParams(sample_rate=16000, auto_hang_up=False),
    )
    # What a pipeline would hand it; the serializer reads the sample rate.
    await serializer.setup(FrameProcessorSetup(clock=None, task_manager=None, pipeline_worker=None, audio_in_sample_rate=16000))
    frames = samples = echoed = 0
    async for raw in ws:
        frame = await serializer.deserialize(raw)
        if isinstance(frame, InputAudioRawFrame):
            frames += 1
            samples += len(frame.audio) // 2
            if frames == 1:
                say(f"audio {frame.sample_rate} Hz {frame.num_channels} channel")
            out = await serializer.serialize(OutputAudioRawFrame(audio=frame.audio, sample_rate=frame.sample_rate, num_channels=1))
            if out:
                echoed += 1
                await ws.send(out)
        elif isinstance(frame, InputDTMFFrame):
            say(f"dtmf {frame.button.value}")
            await ws.send(await serializer.serialize(InterruptionFrame()))
            mark = {"event": "mark", "streamSid": call["stream_id"], "mark": {"name": f"after-{frame.button.value}"}}
            await ws.send(await serializer.serialize(OutputTransportMessageFrame(message=mark)))
        else:
            # Not a pipecat frame: Dialtone's mark echoes and stop.
            msg = json.loads(raw)
            if msg.get("event") == "mark":
                say(f"mark {msg['mark']['name']}")
            elif msg.get("event") == "stop":
                say(f"stop {msg['stop']['callSid']} samples {samples} frames {frames} echoed {echoed}")


def main() -> None:
    host, _, port = sys.argv[1].rpartition(":")

    async def run():
        async with serve(handle, host, int(port)):
            say(f"listening {sys.argv[1]}")
            await asyncio.Future()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
