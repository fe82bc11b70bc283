"""Write the audio inputs of test_analyze.sh: valid files of every shape and
the bad inputs the issue lists. Plain Python (wave, struct), no dependencies."""
import math
import os
import struct
import sys
import wave

out = sys.argv[1]


def pcm(name, rate=44100, ch=1, n=None, width=2, fn=None):
    n = rate if n is None else n
    fn = fn or (lambda i, c: 0.5 * math.sin(2 * math.pi * 440 * i / rate))
    with wave.open(os.path.join(out, name), "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(width)
        w.setframerate(rate)
        buf = bytearray()
        for i in range(n):
            for c in range(ch):
                v = max(-1.0, min(1.0, fn(i, c)))
                if width == 1:
                    buf += struct.pack("<B", int(128 + 127 * v))
                elif width == 2:
                    buf += struct.pack("<h", int(32767 * v))
                elif width == 3:
                    buf += struct.pack("<i", int(8388607 * v))[:3]
        w.writeframes(bytes(buf))


def float_wav(name, samples, rate=44100):
    data = b"".join(struct.pack("<f", s) for s in samples)
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def raw(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


# A 1 kHz sine at -23 dBFS, stereo, 48 kHz, 10 s: -23.0 LUFS.
amp = 10 ** (-23 / 20)
pcm("ref_-23.wav", rate=48000, ch=2, n=480000,
    fn=lambda i, c: amp * math.sin(2 * math.pi * 1000 * i / 48000))
# Shapes that must analyze.
pcm("one_frame.wav", n=1)
pcm("silence.wav", n=44100, fn=lambda i, c: 0.0)
pcm("u8.wav", width=1)
pcm("s24.wav", width=3)
float_wav("f32.wav", [0.5 * math.sin(2 * math.pi * 440 * i / 44100) for i in range(44100)])
float_wav("nan.wav", [float("nan") if i % 1000 == 0 else 0.3 * math.sin(i / 10.0)
                      for i in range(22050)])
for ch in (1, 2, 3, 6, 8, 12):
    pcm(f"ch{ch}.wav", ch=ch, n=22050)
for rate in (8000, 11025, 32000, 96000, 192000, 384000):
    pcm(f"rate{rate}.wav", rate=rate, n=rate // 2)
# Bad inputs.
raw("empty.wav", b"")
raw("text.wav", b"this is a text file, not audio\n" * 4)
raw("trunc_header.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ")
pcm("zero_frames.wav", n=0)
pcm("trunc_data.wav", n=44100)
with open(os.path.join(out, "trunc_data.wav"), "r+b") as f:
    f.truncate(44 + 2 * 30000)
os.mkdir(os.path.join(out, "a_directory.wav"))
# A name that is not UTF-8.
pcm(os.fsdecode(b"bad_\xff\xfe_name.wav"), n=4410)
