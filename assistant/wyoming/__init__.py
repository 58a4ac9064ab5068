"""Wyoming, Home Assistant's voice protocol: the assistant as conversation, speech-to-text and text-to-speech
programs (``server``), and satellites in each room feeding this one service (``satellite``).

``intent`` is the pure mapping of our answers onto Wyoming's events and Home Assistant's slots; ``speech``
the blocking audio work. Needs the ``wyoming`` extra (``pip install 'hearth-voice-assistant[wyoming]'``).
"""
