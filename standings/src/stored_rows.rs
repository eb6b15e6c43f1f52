//! Member rows as the object stores them, read back onto a board: the text a rebuild reads in chunks
//! (`user_id,score,seq` joined by `;`), and the rows that are not something this code ever writes.

use uuid::Uuid;

use crate::engine::Leaderboard;
use crate::score::Score;

/// A stored member row that is not something this code ever writes: left off the board (so everyone else is still
/// served), reported by the object's stats, and dropped by an administrator's repair.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CorruptRow {
    /// The row's `user_id` as stored (the key the repair names).
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Restores every sound member of one chunk's text (`user_id,score,seq` joined by `;`) onto `board`: how many, and
/// the rows that could not be restored.
pub fn restore_chunk(board: &mut Leaderboard, text: &str) -> (u64, Vec<CorruptRow>) {
    let mut restored = 0;
    let mut corrupt = Vec::new();
    for row in text.split(';') {
        let mut fields = row.split(',');
        let key = fields.clone().next().unwrap_or_default().to_owned();
        let parsed = match (fields.next(), fields.next(), fields.next(), fields.next()) {
            (Some(user), Some(score), Some(seq), None) => {
                Uuid::try_parse(user).map_err(|_| "user id is not a UUID".to_owned()).and_then(|user| {
                    let score = score.parse::<u64>().map_err(|_| "score is not a non-negative integer".to_owned())?;
                    let score = Score::new(score).map_err(|e| e.to_string())?;
                    let seq = seq.parse::<u64>().map_err(|_| "seq is not a non-negative integer".to_owned())?;
                    Ok((user, score, seq))
                })
            }
            _ => Err("not three fields".to_owned()),
        };
        match parsed.and_then(|(user, score, seq)| board.restore(user, score, seq).map_err(|e| e.to_string())) {
            Ok(()) => restored += 1,
            Err(reason) => corrupt.push(CorruptRow { key, reason }),
        }
    }
    (restored, corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";

    #[test]
    fn a_chunk_restores_every_member_with_its_score_and_sequence() {
        let mut board = Leaderboard::new();
        let text = format!("{A},50,7;{B},50,3");
        assert_eq!(restore_chunk(&mut board, &text), (2, vec![]));
        // Equal scores: B reached 50 first (seq 3), so B ranks first; the next change gets a later sequence.
        let order: Vec<String> = board.iter_ranked().map(|e| e.user_id.to_string()).collect();
        assert_eq!(order, vec![B.to_owned(), A.to_owned()]);
        assert_eq!(board.next_seq(), 8);
    }

    #[test]
    fn corrupt_rows_are_left_off_the_board_and_reported_with_their_key() {
        let cases = [
            ("not-a-uuid,1,1".to_owned(), "not-a-uuid", "user id is not a UUID"),
            (format!("{A},-1,1"), A, "score is not a non-negative integer"),
            (format!("{A},1.5,1"), A, "score is not a non-negative integer"),
            (format!("{A},1"), A, "not three fields"),
            (format!("{A},1,1,1"), A, "not three fields"),
            (format!("{A},1,"), A, "seq is not a non-negative integer"),
            (String::new(), "", "not three fields"),
        ];
        for (text, key, reason) in cases {
            let mut board = Leaderboard::new();
            // The sound member beside it is restored all the same.
            let (restored, corrupt) = restore_chunk(&mut board, &format!("{B},5,2;{text}"));
            assert_eq!(restored, 1, "{text:?}");
            assert_eq!(corrupt, vec![CorruptRow { key: key.to_owned(), reason: reason.to_owned() }], "{text:?}");
            assert_eq!(board.score_of(Uuid::parse_str(B).expect("uuid")), Some(Score::new(5).expect("a score")));
        }
        let mut board = Leaderboard::new();
        let too_late = format!("{A},1,{}", crate::engine::key::MAX_SEQ + 1);
        let (restored, corrupt) = restore_chunk(&mut board, &too_late);
        assert_eq!((restored, corrupt.len(), corrupt[0].key.as_str()), (0, 1, A));
    }
}
