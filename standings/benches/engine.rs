//! Engine throughput and memory at 10k, 100k and 1M members: score updates, rank queries, top-100 page,
//! around-me window. `scripts/bench-engine` runs this and compares with redis-server in the same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use standings::engine::Leaderboard;
use standings::score::Score;
use uuid::Uuid;

/// A small deterministic generator, so every run measures the same operations.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn member(i: u64) -> Uuid {
    // Random-looking v4-shaped ids, as the auth service mints them.
    let mut rng = SplitMix(i);
    uuid::Builder::from_random_bytes(((u128::from(rng.next()) << 64) | u128::from(rng.next())).to_le_bytes())
        .into_uuid()
}

fn board(n: u64) -> (Leaderboard, Vec<Uuid>) {
    let mut rng = SplitMix(42);
    let ids: Vec<Uuid> = (0..n).map(member).collect();
    let mut board = Leaderboard::new();
    for id in &ids {
        board.set_score(*id, Score::new(rng.next() % 1_000_000).expect("in range")).expect("in range");
    }
    (board, ids)
}

fn engine(c: &mut Criterion) {
    let sizes: Vec<u64> = match std::env::var("ENGINE_BENCH_SIZES") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => vec![10_000, 100_000, 1_000_000],
    };
    let mut memory = String::new();
    for &n in &sizes {
        let (mut lb, ids) = board(n);
        let line = format!(
            "{n} members: {:.1} bytes/member total, {:.1} bytes/member overhead (beyond id, score, sequence)\n",
            lb.heap_bytes() as f64 / n as f64,
            lb.overhead_bytes() as f64 / n as f64
        );
        print!("memory: {line}");
        memory.push_str(&line);

        let mut group = c.benchmark_group(format!("engine/{n}"));
        group.throughput(Throughput::Elements(1));
        group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
        let mut rng = SplitMix(7);
        group.bench_function(BenchmarkId::from_parameter("update"), |b| {
            b.iter(|| {
                let id = ids[(rng.next() % n) as usize];
                black_box(lb.set_score(id, Score::new(rng.next() % 1_000_000).expect("in range")).expect("in range"));
            })
        });
        group.bench_function(BenchmarkId::from_parameter("rank"), |b| {
            b.iter(|| black_box(lb.standing(ids[(rng.next() % n) as usize])))
        });
        group.bench_function(BenchmarkId::from_parameter("top100"), |b| b.iter(|| black_box(lb.page(1, 100))));
        group.bench_function(BenchmarkId::from_parameter("around5"), |b| {
            b.iter(|| black_box(lb.around(ids[(rng.next() % n) as usize], 5)))
        });
        group.finish();
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("engine-memory.txt"), memory);
}

criterion_group!(benches, engine);
criterion_main!(benches);
