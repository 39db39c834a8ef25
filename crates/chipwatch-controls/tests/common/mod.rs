//! Shared by the determination test files: the embedded engine and a shipment builder.
#![allow(dead_code)] // each test file uses a different subset

use chipwatch_controls::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| default_engine().expect("embedded data load"))
}

pub struct Q {
    pub s: Shipment,
}

pub fn q(from: &str, to: &str, date: &str) -> Q {
    Q {
        s: Shipment {
            product: None,
            params: BTreeMap::new(),
            from: from.into(),
            to: to.into(),
            origin: None,
            end_user: None,
            end_use: None,
            date: Date::parse(date).unwrap(),
            parties: Vec::new(),
        },
    }
}

impl Q {
    pub fn product(mut self, p: &str) -> Q {
        self.s.product = Some(p.into());
        self
    }
    pub fn p(mut self, k: &str, v: f64) -> Q {
        self.s.params.insert(k.into(), Value::Num(v));
        self
    }
    pub fn ps(mut self, k: &str, v: &str) -> Q {
        self.s.params.insert(k.into(), Value::Str(v.into()));
        self
    }
    pub fn pb(mut self, k: &str, v: bool) -> Q {
        self.s.params.insert(k.into(), Value::Bool(v));
        self
    }
    pub fn origin(mut self, o: &str) -> Q {
        self.s.origin = Some(o.into());
        self
    }
    pub fn end_user(mut self, u: &str) -> Q {
        self.s.end_user = Some(u.into());
        self
    }
    pub fn end_use(mut self, u: &str) -> Q {
        self.s.end_use = Some(u.into());
        self
    }
    pub fn run(&self) -> Determination {
        engine().determine(&self.s).expect("determination")
    }
}

/// The verdict of jurisdiction `j`, if there is one.
pub fn find_verdict<'a>(d: &'a Determination, j: &str) -> Option<&'a Verdict> {
    d.verdicts.iter().find(|v| v.jurisdiction == j)
}

/// The outcome of jurisdiction `j`, or "absent".
pub fn outcome(d: &Determination, j: &str) -> &'static str {
    find_verdict(d, j).map_or("absent", |v| v.outcome.as_str())
}
