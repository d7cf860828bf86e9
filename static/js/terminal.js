// The in-browser terminal (filled in by the terminal issue).
