"""Write small valid audio files of several formats as fuzz seeds."""
import math
import struct
import sys
import wave

out = sys.argv[1]


def pcm16(name, rate, ch, n, freq):
    with wave.open(f"{out}/{name}", "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(n):
            v = int(12000 * math.sin(2 * math.pi * freq * i / rate) * math.exp(-i / (rate * 0.05)))
            frames += struct.pack("<h", v) * ch
        w.writeframes(bytes(frames))


def float_wav(name, samples, rate=22050):
    data = b"".join(struct.pack("<f", s) for s in samples)
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    with open(f"{out}/{name}", "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


pcm16("mono.wav", 22050, 1, 2000, 440)
pcm16("stereo.wav", 44100, 2, 3000, 55)
pcm16("one.wav", 8000, 1, 1, 100)
float_wav("float.wav", [math.sin(i / 3.0) for i in range(1500)])
float_wav("nan.wav", [float("nan"), float("inf"), 0.5, -0.5] * 100)
with open(f"{out}/aiff.aiff", "wb") as f:
    ssnd = struct.pack(">II", 0, 0) + b"\x00\x10" * 500
    comm = struct.pack(">hIh", 1, 500, 16) + b"\x40\x0d\xac\x44" + b"\x00" * 6
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    f.write(b"FORM" + struct.pack(">I", len(body)) + body)
