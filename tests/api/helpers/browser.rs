//! A real browser for the page tests: Debian's headless Chromium driven
//! over WebDriver (`chromedriver`, from `chromium-driver`), with the few
//! commands the tests use — open a page, wait for an element, type, click,
//! choose a file, read text, run a script, take a screenshot, read the
//! console.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    client: awc::Client,
}

impl Drop for Browser {
    /// Ends the session (its browser with it) even when a test failed
    /// before `close`, then stops the driver: a killed driver would leave
    /// its Chromium running.
    fn drop(&mut self) {
        if let Some(rest) = self.base.strip_prefix("http://") {
            if let Some((host, path)) = rest.split_once('/') {
                if let Ok(mut stream) = std::net::TcpStream::connect(host) {
                    use std::io::{Read, Write};
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let request = format!(
                        "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                    );
                    if stream.write_all(request.as_bytes()).is_ok() {
                        let _ = stream.read_to_end(&mut Vec::new());
                    }
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts `chromedriver` (`HT_CHROMEDRIVER`) and a headless Chromium
    /// (`HT_CHROMIUM`) showing pages at `width`×`height` (see [`resize`]).
    ///
    /// [`resize`]: Browser::resize
    pub async fn start(width: u32, height: u32) -> Browser {
        let driver_path =
            std::env::var("HT_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let chromium = std::env::var("HT_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
        let chromium = which(&chromium);
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("running {driver_path} (install Debian's chromium-driver, or set HT_CHROMEDRIVER): {e}")
            });
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .finish(),
        };
        let started = Instant::now();
        loop {
            let ready = browser
                .client
                .get(format!("{}/status", browser.base))
                .send()
                .await;
            if ready.is_ok() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let session = browser
            .raw(
                "POST",
                "/session",
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:loggingPrefs": {"browser": "ALL"},
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--disable-dev-shm-usage", "--window-size=1920,1200",
                        ],
                    },
                }}}),
            )
            .await;
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {session}"))
            .to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        browser.resize(width, height).await;
        browser
    }

    async fn raw(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        let mut reply = if method == "POST" {
            request.send_json(&body).await
        } else {
            request.send().await
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let bytes = reply.body().limit(64 << 20).await.unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        value.get("value").cloned().unwrap_or(value)
    }

    /// A command that must succeed: its `value`.
    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let value = self.raw(method, path, body).await;
        if let Some(error) = value.get("error") {
            panic!("WebDriver {method} {path}: {error}: {}", value["message"]);
        }
        value
    }

    pub async fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url })).await;
    }

    /// Loads the current page again (a navigation to the same address
    /// with only a `#…` part would not).
    pub async fn reload(&self) {
        self.command("POST", "/refresh", json!({})).await;
    }

    /// Runs a Chrome DevTools Protocol command on the page.
    pub async fn command_cdp(&self, cmd: &str, params: Value) -> Value {
        self.command(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
        .await
    }

    /// Shows pages at exactly `width`×`height` CSS pixels, as a phone
    /// (touch, mobile viewport) when narrower than 800.
    pub async fn resize(&self, width: u32, height: u32) {
        let mobile = width < 800;
        self.command(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
            }}),
        )
        .await;
        self.command(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setTouchEmulationEnabled", "params": {"enabled": mobile}}),
        )
        .await;
    }

    /// The first element `css` matches, once there is one and it is shown
    /// (waits up to ten seconds).
    pub async fn wait_for(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let found = self
                .raw(
                    "POST",
                    "/element",
                    json!({"using": "css selector", "value": css}),
                )
                .await;
            if let Some(id) = found.get(ELEMENT).and_then(Value::as_str) {
                let shown = self
                    .raw("GET", &format!("/element/{id}/displayed"), Value::Null)
                    .await;
                if shown == Value::Bool(true) {
                    return id.to_owned();
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no visible {css} on the page: {}",
                self.text("body").await
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of `css` contains `wanted`.
    pub async fn wait_for_text(&self, css: &str, wanted: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text(css).await;
            if text.contains(wanted) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{css} never said {wanted:?}; it says {text:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of `css` no longer contains `gone`.
    pub async fn wait_for_gone(&self, css: &str, gone: &str) {
        let started = Instant::now();
        while self.text(css).await.contains(gone) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{css} still says {gone:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the element `css` matches, after clearing it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.wait_for(css).await;
        self.command("POST", &format!("/element/{id}/clear"), json!({}))
            .await;
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Chooses the file at `path` in the file input `css` matches.
    pub async fn choose_file(&self, css: &str, path: &Path) {
        let found = self
            .command(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let id = found[ELEMENT].as_str().unwrap().to_owned();
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": path.display().to_string() }),
        )
        .await;
    }

    /// Clicks the first element `css` matches, brought to the middle of
    /// the screen first as a person scrolls to it: WebDriver alone scrolls
    /// it only to the bottom edge, under the phone's tab bar.
    pub async fn click(&self, css: &str) {
        let id = self.wait_for(css).await;
        self.script(
            "const n = document.querySelector(arguments[0]); \
             if (n) n.scrollIntoView({block: 'center', inline: 'nearest'});",
            json!([css]),
        )
        .await;
        self.command("POST", &format!("/element/{id}/click"), json!({}))
            .await;
    }

    /// The rendered text of the first element `css` matches ("" if none).
    pub async fn text(&self, css: &str) -> String {
        let script = "const n = document.querySelector(arguments[0]); return n ? n.innerText : '';";
        self.script(script, json!([css]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` (a function body) with `args`; its return value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Runs `script` (a function body whose last argument is the callback
    /// to call with its result) with `args`; the result.
    pub async fn command_async(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/async",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Writes a PNG of what is shown, from the top of the page, to `path`.
    pub async fn screenshot(&self, path: &Path) {
        self.script("window.scrollTo(0, 0);", json!([])).await;
        let png = self.command("GET", "/screenshot", Value::Null).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }

    /// The console's messages since the last call (CSP violations are
    /// reported there).
    pub async fn console(&self) -> Vec<String> {
        let entries = self
            .command("POST", "/se/log", json!({"type": "browser"}))
            .await;
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The serious and critical accessibility violations axe-core (vendored
    /// in `tests/vendor/axe-core/`) finds on the page: `rule (impact): help
    /// — how many elements`.
    pub async fn axe(&self) -> Vec<String> {
        const AXE: &str = include_str!("../../vendor/axe-core/axe.min.js");
        self.script(AXE, json!([])).await;
        let found = self
            .command_async(
                "const done = arguments[arguments.length - 1]; \
                 axe.run(document, {resultTypes: ['violations']}).then( \
                   (r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help, \
                     targets: v.nodes.map((n) => n.target.join(' '))}))));",
                json!([]),
            )
            .await;
        found
            .as_array()
            .unwrap_or_else(|| panic!("axe answered {found}"))
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                format!(
                    "{} ({}): {} — {}",
                    v["id"], v["impact"], v["help"], v["targets"]
                )
            })
            .collect()
    }

    /// Ends the session (and its browser); dropping the browser does the
    /// same.
    pub async fn close(self) {
        drop(self);
    }
}

/// `name` as a path, looked up in `PATH` when it has no slash.
fn which(name: &str) -> String {
    if name.contains('/') {
        return name.to_owned();
    }
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| name.to_owned())
}
