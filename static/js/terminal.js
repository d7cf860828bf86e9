// BerthTerminal: xterm.js connected to a lab session's shell over a WebSocket.
//   const t = new BerthTerminal(element, {sessionId, tab: "main", readOnly: false, onStatus});
//   t.sendCommand("ls -la");   t.dispose();
// Binary frames carry terminal bytes both ways (never decoded here: xterm.js takes bytes);
// text frames carry JSON control messages. Output is acknowledged once xterm.js has drawn it,
// which is what lets the server bound the bytes in flight (flow control).
(function () {
  "use strict";
  const ACK_EVERY = 16 * 1024;
  const PING_EVERY = 20000;
  const FINAL = {4404: "This terminal is not available.", 4409: "The lab is not running.",
                 4410: "The lab has stopped.", 4429: "Too many terminals are open. Close one and reload."};
  const encoder = new TextEncoder();

  class BerthTerminal {
    constructor(element, options) {
      this.element = element;
      this.options = Object.assign({tab: "main", readOnly: false, onStatus: () => {}}, options);
      this.retry = 0;
      this.disposed = false;
      this.unacked = 0;
      this.term = new window.Terminal({
        cursorBlink: !this.options.readOnly,
        disableStdin: this.options.readOnly,
        fontFamily: '"DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace',
        fontSize: 14,
        scrollback: 5000,
        allowProposedApi: false,
        theme: {background: "#0f1e2d", foreground: "#e2e8f0", cursor: "#4fd1c5", selectionBackground: "#2c5282"},
      });
      this.fit = new window.FitAddon.FitAddon();
      this.term.loadAddon(this.fit);
      this.term.open(element);
      this.safeFit();
      this.term.onData((data) => this.sendBytes(encoder.encode(data)));
      this.term.onBinary((data) => {
        const bytes = new Uint8Array(data.length);
        for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
        this.sendBytes(bytes);
      });
      this.term.onResize(({cols, rows}) => this.control({type: "resize", cols, rows}));
      this.resizeObserver = new ResizeObserver(() => this.scheduleFit());
      this.resizeObserver.observe(element);
      this.pinger = setInterval(() => this.control({type: "ping"}), PING_EVERY);
      this.connect();
    }

    status(state, text) {
      this.element.dataset.state = state;
      this.options.onStatus(state, text || "");
    }

    url() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const q = new URLSearchParams({tab: this.options.tab, cols: this.term.cols, rows: this.term.rows});
      return `${scheme}${location.host}/ws/labs/${this.options.sessionId}/terminal/?${q}`;
    }

    connect() {
      if (this.disposed) return;
      this.status(this.retry ? "reconnecting" : "connecting", this.retry ? "Reconnecting…" : "Connecting…");
      const ws = new WebSocket(this.url());
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      this.unacked = 0;
      ws.onopen = () => {
        this.retry = 0;
        this.status("open", "");
        this.control({type: "resize", cols: this.term.cols, rows: this.term.rows});
      };
      ws.onmessage = (event) => {
        if (typeof event.data === "string") return this.onControl(JSON.parse(event.data));
        const bytes = new Uint8Array(event.data);
        this.term.write(bytes, () => {
          this.unacked += bytes.length;
          if (this.unacked >= ACK_EVERY) this.flushAck();
        });
        clearTimeout(this.ackTimer);
        this.ackTimer = setTimeout(() => this.flushAck(), 100);
      };
      ws.onclose = (event) => {
        if (this.disposed || ws !== this.ws) return;
        if (FINAL[event.code]) {
          this.status("closed", FINAL[event.code]);
          return;
        }
        if (this.exited) {
          this.status("exited", "The shell has exited. Press Enter for a new one.");
          const once = this.term.onKey(() => { once.dispose(); this.exited = false; this.term.reset(); this.connect(); });
          return;
        }
        this.retry = Math.min(this.retry + 1, 6);
        this.status("reconnecting", "Connection lost. Reconnecting…");
        setTimeout(() => this.connect(), Math.min(8000, 300 * 2 ** this.retry));
      };
    }

    flushAck() {
      if (this.unacked > 0 && this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({type: "ack", bytes: this.unacked}));
        this.unacked = 0;
      }
    }

    onControl(message) {
      if (message.type === "hello") {
        this.role = message.role;
        this.term.reset();  // tmux redraws the whole screen on attach
        if (message.role === "observer") this.status("open", "Watching (read-only)");
      } else if (message.type === "exit") {
        this.exited = true;
      } else if (message.type === "ended") {
        this.status("closed", FINAL[4410]);
      }
    }

    control(message) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
    }

    sendBytes(bytes) {
      if (this.options.readOnly || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
      for (let i = 0; i < bytes.length; i += 32768) this.ws.send(bytes.subarray(i, i + 32768));
      return true;
    }

    sendCommand(text) {
      this.term.focus();
      return this.sendBytes(encoder.encode(text.replace(/\n+$/, "").replace(/\n/g, "\r") + "\r"));
    }

    scheduleFit() {
      clearTimeout(this.fitTimer);
      this.fitTimer = setTimeout(() => this.safeFit(), 60);
    }

    safeFit() {
      if (this.element.offsetParent === null) return;  // hidden tab: fit when shown
      try { this.fit.fit(); } catch (err) { /* not laid out yet */ }
    }

    focus() { this.safeFit(); this.term.focus(); }

    dispose() {
      this.disposed = true;
      clearInterval(this.pinger);
      this.resizeObserver.disconnect();
      if (this.ws) this.ws.close(1000);
      this.term.dispose();
    }
  }

  window.BerthTerminal = BerthTerminal;

  // A set of tabs (main, tab2, ...) for one session, drawn into a container with a tab bar.
  class TerminalTabs {
    constructor(root, {sessionId, readOnly = false, onStatus = () => {}}) {
      this.root = root;
      this.sessionId = sessionId;
      this.readOnly = readOnly;
      this.onStatus = onStatus;
      this.tabs = new Map();
      root.innerHTML = "";
      this.bar = document.createElement("div");
      this.bar.className = "term-tabs";
      this.body = document.createElement("div");
      this.body.className = "term-body";
      this.statusLine = document.createElement("div");
      this.statusLine.className = "term-status";
      this.statusLine.setAttribute("aria-live", "polite");
      root.append(this.bar, this.body, this.statusLine);
      if (!readOnly) {
        this.newButton = document.createElement("button");
        this.newButton.type = "button";
        this.newButton.className = "term-new";
        this.newButton.textContent = "+ New tab";
        this.newButton.addEventListener("click", () => this.open(this.nextName()));
        this.bar.append(this.newButton);
      }
      this.open("main");
    }

    nextName() {
      for (let i = 2; i <= 8; i++) if (!this.tabs.has(`tab${i}`)) return `tab${i}`;
      return null;
    }

    open(name) {
      if (!name) return;
      if (this.tabs.has(name)) return this.show(name);
      const pane = document.createElement("div");
      pane.className = "term-pane";
      pane.dataset.tab = name;
      this.body.append(pane);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "term-tab";
      button.textContent = name === "main" ? "Shell" : `Shell ${name.slice(3)}`;
      button.addEventListener("click", () => this.show(name));
      this.bar.insertBefore(button, this.newButton || null);
      this.tabs.set(name, {pane, button, term: null});
      this.show(name);
      const entry = this.tabs.get(name);
      entry.term = new BerthTerminal(pane, {
        sessionId: this.sessionId, tab: name, readOnly: this.readOnly,
        onStatus: (state, text) => { if (this.active === name) this.showStatus(state, text); },
      });
      if (this.newButton) this.newButton.disabled = !this.nextName();
      return entry.term;
    }

    show(name) {
      this.active = name;
      for (const [key, entry] of this.tabs) {
        entry.pane.hidden = key !== name;
        entry.button.classList.toggle("active", key === name);
      }
      const entry = this.tabs.get(name);
      if (entry && entry.term) {
        entry.term.focus();
        this.showStatus(entry.term.element.dataset.state, "");
      }
    }

    showStatus(state, text) {
      this.statusLine.textContent = text;
      this.statusLine.dataset.state = state || "";
      this.root.classList.toggle("reconnecting", state === "reconnecting");
      this.onStatus(state, text);
    }

    get main() { return this.tabs.get("main").term; }
    get current() { return this.tabs.get(this.active).term; }

    dispose() {
      for (const entry of this.tabs.values()) if (entry.term) entry.term.dispose();
      this.tabs.clear();
      this.root.innerHTML = "";
    }
  }

  window.BerthTerminalTabs = TerminalTabs;
})();
