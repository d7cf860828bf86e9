# Show /etc/motd once per lab, in the first interactive login shell (the first tmux window).
case $- in
    *i*)
        _berth_motd="/tmp/.berth-motd-$(id -u)"
        if [ -r /etc/motd ] && [ ! -e "$_berth_motd" ]; then
            cat /etc/motd
            : >"$_berth_motd" 2>/dev/null || true
        fi
        unset _berth_motd
        ;;
esac
