# ~/.bashrc: your own bash settings. The lab's prompt, aliases and history settings come from
# /etc/bash.bashrc. Your home lives in memory: this file is fresh each time a lab starts.
