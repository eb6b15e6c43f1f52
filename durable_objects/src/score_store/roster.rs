//! Who may post (the roster), who may not any more (disqualified, deleted), what members are called, and which
//! fitness total was last applied for each.

use std::collections::HashMap;

use serde::Deserialize;
use uuid::Uuid;

use standings::protocol::Person;

use super::{Bind, ScoreStore, StoreError, Value, NAMES_KEPT};

#[derive(Debug, Deserialize)]
struct PersonRow {
    user_id: String,
    display_name: String,
    avatar_url: Option<String>,
    version: i64,
}

/// What `save_person` must know before it writes: whether the account was deleted, and the stored person.
#[derive(Debug, Deserialize)]
struct PersonState {
    forgotten: i64,
    version: Option<i64>,
    display_name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RosterRow {
    #[allow(dead_code)] // selected so the row exists; its presence is the answer
    user_id: String,
}

impl ScoreStore {
    /// Adds a member to the roster (idempotent), unless their account was deleted: a join that the database took
    /// just before the deletion may reach the object after it (the deleted id never comes back).
    pub fn add_member(&self, user: &Uuid) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO roster (user_id) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM forgotten WHERE user_id = ?1) \
             ON CONFLICT DO NOTHING",
            &[Bind::Text(&user.to_string())],
        )
    }

    /// Whether the roster holds `user`.
    pub fn is_member(&self, user: &Uuid) -> Result<bool, StoreError> {
        let rows: Vec<RosterRow> = self
            .sql
            .exec("SELECT user_id FROM roster WHERE user_id = ?1", vec![user.to_string().into()])?
            .to_array()?;
        Ok(!rows.is_empty())
    }

    /// Records a member's name and avatar unless the object holds a newer change (a higher `version`): two changes
    /// of one user may reach the object in the other order than the database made them. A deleted account keeps
    /// `deleted player`: a join or a rename that the database took before the deletion may reach the object after
    /// it. Whether it was recorded.
    pub fn save_person(&self, person: &Person) -> Result<bool, StoreError> {
        let user = person.user_id.to_string();
        let state: PersonState = self
            .sql
            .exec(
                "SELECT EXISTS (SELECT 1 FROM forgotten WHERE user_id = ?1) AS forgotten, \
                 p.version, p.display_name, p.avatar_url \
                 FROM (SELECT ?1 AS id) k LEFT JOIN people p ON p.user_id = k.id",
                vec![user.clone().into()],
            )?
            .one()?;
        if state.forgotten != 0 || state.version.is_some_and(|stored| stored > person.version) {
            return Ok(false);
        }
        // The same person told again (the Worker's announcement and the database's change log both bring a rename):
        // nothing to store, and no frame.
        let unchanged = state.version == Some(person.version)
            && state.display_name.as_deref() == Some(person.display_name.as_str())
            && state.avatar_url == person.avatar_url;
        if unchanged {
            return Ok(false);
        }
        let avatar = person.avatar_url.as_deref().map_or(Bind::Null, Bind::Text);
        self.run(
            "INSERT INTO people (user_id, display_name, avatar_url, version) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, \
             avatar_url = excluded.avatar_url, version = excluded.version",
            &[Bind::Text(&user), Bind::Text(&person.display_name), avatar, Bind::Int(person.version)],
        )?;
        self.names.borrow_mut().insert(person.user_id, Some(person.display_name.clone()));
        Ok(true)
    }

    /// The display name the object was told for `user` (`None`: never told), from memory after the first read.
    pub fn display_name(&self, user: &Uuid) -> Result<Option<String>, StoreError> {
        if let Some(known) = self.names.borrow().get(user) {
            return Ok(known.clone());
        }
        let name = self.people(&[*user])?.remove(user).map(|person| person.display_name);
        let mut names = self.names.borrow_mut();
        if names.len() >= NAMES_KEPT {
            names.clear();
        }
        names.insert(*user, name.clone());
        Ok(name)
    }

    /// The names and avatars the object was told for `users`, in one query (members never told are absent).
    pub fn people(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Person>, StoreError> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = serde_json::to_string(&users.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt { user: "people".into(), reason: e.to_string() })?;
        let rows: Vec<PersonRow> = self
            .sql
            .exec(
                "SELECT user_id, display_name, avatar_url, version FROM people \
                 WHERE user_id IN (SELECT value FROM json_each(?1))",
                vec![ids.into()],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let user_id = Uuid::try_parse(&row.user_id).ok()?;
                let (display_name, avatar_url, version) = (row.display_name, row.avatar_url, row.version);
                Some((user_id, Person { user_id, display_name, avatar_url, version }))
            })
            .collect())
    }

    /// Whether `user` was disqualified.
    pub fn is_disqualified(&self, user: &Uuid) -> Result<bool, StoreError> {
        Ok(self.count("SELECT COUNT(*) AS n FROM disqualified WHERE user_id = ?1", vec![user.to_string().into()])? > 0)
    }

    /// Records `user` as disqualified and drops their member row (one synchronous block: both or neither).
    pub fn disqualify(&self, user: &Uuid, reason: &str) -> Result<(), StoreError> {
        let user = user.to_string();
        self.run(
            "INSERT INTO disqualified (user_id, reason) VALUES (?1, ?2) ON CONFLICT (user_id) DO NOTHING",
            &[Bind::Text(&user), Bind::Text(reason)],
        )?;
        self.run("DELETE FROM members WHERE user_id = ?1", &[Bind::Text(&user)])
    }

    /// Forgets a deleted account: off the roster, their day versions gone, shown as `deleted player` without an
    /// avatar wherever the board still lists them, and — when the board still moves (`off_board`) — their member
    /// row deleted; remembered as deleted, so that a late join or rename cannot bring them back. One synchronous
    /// block: all or nothing.
    pub fn forget(&self, user: &Uuid, off_board: bool) -> Result<(), StoreError> {
        let id = user.to_string();
        self.run("DELETE FROM roster WHERE user_id = ?1", &[Bind::Text(&id)])?;
        self.run("DELETE FROM day_versions WHERE user_id = ?1", &[Bind::Text(&id)])?;
        if off_board {
            self.run("DELETE FROM members WHERE user_id = ?1", &[Bind::Text(&id)])?;
        }
        self.save_person(&Person {
            user_id: *user,
            display_name: standings::protocol::DELETED_PLAYER.to_owned(),
            avatar_url: None,
            // Above whatever was stored before (and still exact as a JavaScript number, as SQLite's rows come back);
            // nothing is saved for a forgotten member after this.
            version: (1 << 53) - 1,
        })?;
        self.run("INSERT INTO forgotten (user_id) VALUES (?1) ON CONFLICT DO NOTHING", &[Bind::Text(&id)])
    }

    /// The numbers of the member changes applied and not yet deleted in the system of record (`MemberChange::id`).
    pub fn member_changes_done(&self) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<Value> = self.sql.exec("SELECT id AS value FROM member_changes_done", vec![])?.to_array()?;
        Ok(rows.into_iter().map(|row| row.value).collect())
    }

    /// Remembers `ids` as the member changes applied (replacing the ones remembered before, now deleted there).
    pub fn set_member_changes_done(&self, ids: &[i64]) -> Result<(), StoreError> {
        let list = serde_json::to_string(ids)
            .map_err(|e| StoreError::Corrupt { user: "member changes".into(), reason: e.to_string() })?;
        self.run("DELETE FROM member_changes_done", &[])?;
        self.run("INSERT INTO member_changes_done (id) SELECT value FROM json_each(?1)", &[Bind::Text(&list)])
    }

    /// The days version of the last fitness total applied for `user` (`None` before the first).
    pub fn day_version(&self, user: &Uuid) -> Result<Option<i64>, StoreError> {
        let rows: Vec<Value> = self
            .sql
            .exec("SELECT version AS value FROM day_versions WHERE user_id = ?1", vec![user.to_string().into()])?
            .to_array()?;
        Ok(rows.first().map(|row| row.value))
    }

    /// Remembers the days version of the fitness total just applied for `user`.
    pub fn set_day_version(&self, user: &Uuid, version: i64) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO day_versions (user_id, version) VALUES (?1, ?2) \
             ON CONFLICT (user_id) DO UPDATE SET version = excluded.version",
            &[Bind::Text(&user.to_string()), Bind::Int(version)],
        )
    }
}
