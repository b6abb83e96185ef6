//! Integration tests through the real HTTP app. Every test runs twice: on a
//! fresh SQLite file and on a fresh PostgreSQL database.

mod helpers;

mod cli;
mod lifecycle;
mod operations;
