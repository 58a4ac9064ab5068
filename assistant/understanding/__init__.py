"""Understanding: text (+ context + device registry) -> Parse."""
