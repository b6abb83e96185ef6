//! A small real SMTP server on loopback for the mail tests: it speaks
//! enough of RFC 5321 for lettre, records what it accepts, and can be told
//! to answer DATA with temporary (451) or permanent (550) failures.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub recipients: Vec<String>,
    pub data: String,
}

/// How the server answers the end of DATA.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    Accept,
    /// Answer 451 to the next `n` messages, then accept.
    TempFail(usize),
    /// Answer 550 to everything.
    PermFail,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    refused: Arc<Mutex<usize>>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the test SMTP server");
        let port = listener.local_addr().unwrap().port();
        let server = SmtpServer {
            port,
            received: Arc::default(),
            behaviour: Arc::new(Mutex::new(Behaviour::Accept)),
            refused: Arc::default(),
        };
        let accepting = server.clone();
        actix_web::rt::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let session = accepting.clone();
                actix_web::rt::spawn(async move {
                    let _ = session.serve(socket).await;
                });
            }
        });
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Messages answered with a failure so far.
    pub fn refused(&self) -> usize {
        *self.refused.lock().unwrap()
    }

    async fn serve(&self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 test-smtp ESMTP ready\r\n").await?;
        let mut recipients = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            if command.starts_with("EHLO") {
                write
                    .write_all(b"250-test-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?;
            } else if command.starts_with("HELO")
                || command.starts_with("MAIL FROM")
                || command.starts_with("NOOP")
            {
                write.write_all(b"250 OK\r\n").await?;
            } else if command.starts_with("RSET") {
                recipients.clear();
                write.write_all(b"250 OK\r\n").await?;
            } else if command.starts_with("RCPT TO") {
                let address = line.trim_end()[8..].trim().trim_start_matches(':').trim();
                recipients.push(address.trim_matches(['<', '>']).to_owned());
                write.write_all(b"250 OK\r\n").await?;
            } else if command == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                let reply = {
                    let mut behaviour = self.behaviour.lock().unwrap();
                    match *behaviour {
                        Behaviour::Accept => None,
                        Behaviour::TempFail(0) => {
                            *behaviour = Behaviour::Accept;
                            None
                        }
                        Behaviour::TempFail(n) => {
                            *behaviour = Behaviour::TempFail(n - 1);
                            Some("451 4.3.0 try again later\r\n")
                        }
                        Behaviour::PermFail => Some("550 5.1.1 mailbox unavailable\r\n"),
                    }
                };
                match reply {
                    Some(reply) => {
                        *self.refused.lock().unwrap() += 1;
                        write.write_all(reply.as_bytes()).await?;
                    }
                    None => {
                        let message_id = data
                            .lines()
                            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                            .map(|l| l[11..].trim().to_owned())
                            .unwrap_or_default();
                        self.received.lock().unwrap().push(Received {
                            message_id,
                            recipients: std::mem::take(&mut recipients),
                            data,
                        });
                        write.write_all(b"250 OK queued\r\n").await?;
                    }
                }
                recipients.clear();
            } else if command.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"502 command not implemented\r\n").await?;
            }
        }
    }
}
