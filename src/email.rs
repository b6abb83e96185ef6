//! Sending mail: SMTP through lettre (STARTTLS, TLS or plain, with
//! authentication from the URL), or `.eml` files in a folder when no server
//! is configured. Every send is bounded by a timeout, and failures are
//! sorted into worth-retrying and final.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::settings::SmtpSettings;

/// One mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Derived from the outbox row, so a duplicate sent after a crash is
    /// recognisable as the same message.
    pub message_id: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Connection trouble, a timeout or a 4xx reply: try again later.
    Transient(String),
    /// A 5xx reply or a message that can never be sent: give up.
    Permanent(String),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    timeout: Duration,
}

impl Mailer {
    pub fn from_settings(settings: &SmtpSettings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp.from {:?} is not a mailbox: {e}", settings.from))?;
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let url = settings.url.expose_secret();
        let transport = if url.trim().is_empty() {
            Transport::Folder(settings.outbox_dir.clone())
        } else {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| anyhow::anyhow!("smtp.url is not usable: {e}"))?
                .timeout(Some(timeout))
                .build();
            Transport::Smtp(transport)
        };
        Ok(Mailer {
            transport,
            from,
            timeout,
        })
    }

    /// Where mail goes, for the logs (never the credentials).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".to_owned(),
            Transport::Folder(dir) => format!("files in {}", dir.display()),
        }
    }

    fn build(&self, mail: &Mail) -> Result<Message, SendError> {
        let mut builder = Message::builder()
            .message_id(Some(mail.message_id.clone()))
            .from(self.from.clone())
            .subject(mail.subject.clone());
        for address in &mail.to {
            let mailbox: Mailbox = address.parse().map_err(|e| {
                SendError::Permanent(format!("recipient {address:?} is not an address: {e}"))
            })?;
            builder = builder.to(mailbox);
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        if mail.to.is_empty() {
            return Err(SendError::Permanent("no recipients".to_owned()));
        }
        let message = self.build(mail)?;
        match &self.transport {
            Transport::Smtp(transport) => {
                // lettre's own timeout covers each command, not the whole
                // exchange: bound the whole send.
                match tokio::time::timeout(self.timeout, transport.send(message)).await {
                    Err(_) => Err(SendError::Transient(format!(
                        "no answer within {:?}",
                        self.timeout
                    ))),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                    Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
                }
            }
            Transport::Folder(dir) => {
                let dir = dir.clone();
                let name = mail
                    .message_id
                    .trim_matches(['<', '>'])
                    .replace(['/', '\\', '@'], "_");
                let bytes = message.formatted();
                actix_web::web::block(move || {
                    std::fs::create_dir_all(&dir)?;
                    std::fs::write(dir.join(format!("{name}.eml")), bytes)
                })
                .await
                .map_err(|e| SendError::Transient(e.to_string()))?
                .map_err(|e| SendError::Transient(format!("writing the mail file: {e}")))
            }
        }
    }
}
