//! The events and handlers the supervisor! ui cases declare trees of.
#![allow(dead_code)]

use event_core::handler;

#[derive(Debug)]
pub enum Log {
    Line(String),
}

#[derive(Debug)]
pub enum Alarm {
    Set(u32),
}

pub struct Console;

#[handler(event = Log)]
impl Console {
    fn init() -> Self {
        Console
    }
    fn handle_event(&mut self, _: &Log) {}
}

pub struct File {
    pub path: String,
}

#[handler(event = Log)]
impl File {
    fn init(path: String) -> Self {
        File { path }
    }
    fn handle_event(&mut self, _: &Log) {}
}

