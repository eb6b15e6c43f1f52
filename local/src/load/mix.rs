//! Scenarios and their weights.

/// One kind of request a virtual user makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// `GET /api/v1/leaderboard/{id}?limit=50`
    Page,
    /// `GET /api/v1/me`
    Me,
    /// `POST /api/v1/leaderboard/update` (the user's score, rising)
    Update,
    /// `POST /api/v1/fitness/sync` (one day of steps)
    Sync,
    /// `GET /api/v1/competitions`
    List,
    /// `GET /api/v1/leaderboard/{id}/me?around=5`
    Around,
    /// `GET /health/live` (touches nothing: the baseline of the Worker itself)
    Live,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 7] = [
        Scenario::Page,
        Scenario::Me,
        Scenario::Update,
        Scenario::Sync,
        Scenario::List,
        Scenario::Around,
        Scenario::Live,
    ];

    /// The name used in `--mix` and reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Page => "page",
            Scenario::Me => "me",
            Scenario::Update => "update",
            Scenario::Sync => "sync",
            Scenario::List => "list",
            Scenario::Around => "around",
            Scenario::Live => "live",
        }
    }

    /// Whether it needs a competition the user joined.
    pub fn needs_competition(self) -> bool {
        matches!(self, Scenario::Page | Scenario::Update | Scenario::Around)
    }
}

/// Scenarios with cumulative weights, for picking by a uniform number.
#[derive(Debug, Clone)]
pub struct Mix {
    cumulative: Vec<(u32, Scenario)>,
    total: u32,
}

impl Mix {
    /// Parses `name=weight,…` (weights are whole numbers; zero-weight entries are dropped).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut cumulative = Vec::new();
        let mut total = 0u32;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected name=weight"))?;
            let scenario = Scenario::ALL
                .into_iter()
                .find(|s| s.name() == name.trim())
                .ok_or_else(|| format!("unknown scenario {name:?}"))?;
            let weight: u32 = weight.trim().parse().map_err(|_| format!("{part:?}: weight must be a whole number"))?;
            if weight > 0 {
                total = total.checked_add(weight).ok_or("weights too large")?;
                cumulative.push((total, scenario));
            }
        }
        if total == 0 {
            return Err("the mix has no scenario with a positive weight".into());
        }
        Ok(Self { cumulative, total })
    }

    /// The scenario for a uniform random `roll`.
    pub fn pick(&self, roll: u64) -> Scenario {
        let point = (roll % u64::from(self.total)) as u32;
        self.cumulative.iter().find(|(upto, _)| point < *upto).map_or(Scenario::Live, |(_, s)| *s)
    }

    /// The scenarios in the mix.
    pub fn scenarios(&self) -> impl Iterator<Item = Scenario> + '_ {
        self.cumulative.iter().map(|(_, s)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_pick_in_proportion() {
        let mix = Mix::parse("page=3, me=1,update=0").expect("mix");
        let mut counts = std::collections::BTreeMap::new();
        for roll in 0..4000 {
            *counts.entry(mix.pick(roll)).or_insert(0) += 1;
        }
        assert_eq!(counts.get(&Scenario::Page), Some(&3000));
        assert_eq!(counts.get(&Scenario::Me), Some(&1000));
        assert!(!counts.contains_key(&Scenario::Update));
        assert_eq!(mix.scenarios().count(), 2);
    }

    #[test]
    fn bad_mixes_are_refused() {
        for text in ["", "page", "page=x", "nope=1", "page=0", "page=-1"] {
            assert!(Mix::parse(text).is_err(), "{text:?}");
        }
    }
}
