// Lesson page behaviour. Runnable code blocks are wired to the lab terminal by terminal-dock.js.
