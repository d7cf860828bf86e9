# /etc/bash.bashrc: every interactive bash in a Berth lab reads this, even with an empty home.
[ -z "${PS1-}" ] && return

shopt -s checkwinsize histappend
HISTCONTROL=ignoreboth
HISTSIZE=5000
HISTFILESIZE=10000

if [ "$(id -u)" -eq 0 ]; then _berth_c='1;31'; else _berth_c='1;32'; fi
PS1='\[\e['"$_berth_c"'m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
unset _berth_c

export EDITOR=nano VISUAL=nano
alias ls='ls --color=auto' ll='ls -alF' la='ls -A' l='ls -CF' grep='grep --color=auto'
