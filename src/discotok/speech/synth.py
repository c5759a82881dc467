"""eSpeak NG in-process through ctypes (the library and its data ship in ``espeakng-loader``).

One ``Synthesizer`` per process (the C library keeps global state). ``say`` returns the
waveform at the synthesiser's native 22 050 Hz and the phoneme events with their sample
offsets, which give exact frame-level phone labels. Stress marks are dropped from phone
names ("'E" -> "E"); pauses ("_", "_:") and the silence before the first phone are "sil";
language-switch markers such as "(en)" are not phones and are skipped.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from discotok.errors import ConfigError

NATIVE_RATE = 22050
_EVENT_END, _EVENT_PHONEME = 0, 7
_RATE, _PITCH = 1, 3  # espeak_PARAMETER values


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class Utterance:
    """A synthesised clip: int16 samples at `rate` and (start sample, phone) events."""

    audio: np.ndarray
    rate: int
    phones: list[tuple[int, str]]


def _data_path() -> Path:
    try:
        import espeakng_loader
    except ImportError as err:  # pragma: no cover - a dependency of discotok
        raise ConfigError("the speech corpus needs espeakng-loader: pip install discotok") from err
    return Path(espeakng_loader.get_data_path())


def languages() -> list[str]:
    """Language codes the shipped eSpeak NG data can speak (file names under ``lang/``)."""
    root = _data_path() / "lang"
    return sorted({p.name.lower() for p in root.rglob("*") if p.is_file()})


def variants() -> list[str]:
    """Voice variants (``voices/!v``): m1..m8, f1..f5, klatt, croak and ~90 named ones."""
    return sorted(p.name for p in (_data_path() / "voices" / "!v").iterdir() if p.is_file())


def phone_name(mnemonic: str) -> str | None:
    """Phone label of an eSpeak phoneme mnemonic; None for language-switch markers."""
    if mnemonic.startswith("("):
        return None
    name = mnemonic.replace("'", "").replace(",", "")
    return "sil" if name in ("", "_", "_:", "_!", "_|") else name


class Synthesizer:
    """Synchronous eSpeak NG with phoneme events; use ``synthesizer()`` for the shared one."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        path = str(_data_path()).encode()
        rate = self._lib.espeak_Initialize(2, 0, path, 1)  # synchronous, phoneme events on
        if rate != NATIVE_RATE:
            raise RuntimeError(f"eSpeak NG failed to start (returned {rate})")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _Callback(self._receive)  # kept alive: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)
        self._languages = set(languages())
        self._variants = set(variants())

    def _receive(self, wav: ctypes.Array, count: int, events: ctypes.Array) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_END:
            if events[i].type == _EVENT_PHONEME:
                mnemonic = events[i].id.string.decode("utf-8", errors="replace")
                self._events.append((int(events[i].sample), mnemonic))
            i += 1
        return 0

    def say(
        self, text: str, language: str, variant: str = "", pitch: int = 50, rate: int = 175
    ) -> Utterance:
        """Speak `text`; pitch 0-100 (50 = the voice's own), rate in words per minute."""
        language = language.lower()
        if language not in self._languages:
            valid = ", ".join(sorted(self._languages))
            raise ConfigError(f"unknown language {language!r}; valid choices: {valid}")
        if variant and variant not in self._variants:
            raise ConfigError(
                f"unknown voice {variant!r}; valid choices: {', '.join(sorted(self._variants))}"
            )
        name = f"{language}+{variant}" if variant else language
        if self._lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise ConfigError(f"eSpeak NG could not load voice {name!r}")
        self._lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        self._lib.espeak_SetParameter(_RATE, int(rate), 0)
        self._chunks, self._events = [], []
        data = text.encode()
        self._lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, 0, None, None)
        self._lib.espeak_Synchronize()
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        phones = [(s, p) for s, m in self._events if (p := phone_name(m)) is not None]
        return Utterance(audio=audio.astype(np.int16), rate=NATIVE_RATE, phones=phones)


@lru_cache(maxsize=1)
def synthesizer() -> Synthesizer:
    """The process's one synthesiser."""
    return Synthesizer()
