//! The fuzz targets' seeds, replayed on every `cargo test`: each target of `fuzz/` (its body is
//! `fuzz/src/<target>.rs`, compiled here as a module) runs on every file of
//! `fuzz/corpus/<target>/` and on a fixed set of mutations of them (bit flips, interesting bytes,
//! cuts, repeats, splices with the other seeds), with no sanitizer and no coverage guidance.
//! The real mutation run stays `scripts/fuzz-smoke.sh` (cargo-fuzz, libFuzzer), for developers
//! and `FUZZ=1 .ci/run`.
//!
//! A failing input is printed (escaped); to keep it, add it to the target's corpus once fixed.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
mod targets;

/// Mutations tried per seed (fewer for targets that are slow per input).
const MUTANTS_PER_SEED: usize = 400;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The seeds of `target`, by file name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("seed readable");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{target}: no seed in {}", dir.display());
    seeds
}

/// xorshift64*: a fixed sequence per target, so a failure is the same on every run.
struct Rng(u64);

impl Rng {
    fn new(name: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes and fragments parsers of outside input tend to trip on.
const INTERESTING: &[&[u8]] = &[
    b"\0",
    b"\xff",
    b"\"",
    b"\\",
    b"=",
    b",",
    b"{",
    b"}",
    b"[",
    b"\n",
    b"\r\n",
    b" ",
    b".",
    b":",
    b"%",
    b"-----",
    b"\\u0000",
    b"\xc3\xa9",
    b"\xe2\x80\xae",
    b"\xf0\x9f\x92\xa5",
    b"99999999999999999999",
    b"-1",
    b"null",
    b"eyJ",
    b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
];

/// One mutation of `input`: one to four edits, some splicing in another seed.
fn mutate(rng: &mut Rng, input: &[u8], others: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let frag = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(i..i + 1, frag.iter().copied());
            }
            2 => {
                let i = rng.below(len + 1);
                let frag = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(i..i, frag.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                out.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                let copy = out[a..b].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, copy.iter().copied().cycle().take(copy.len() * 4));
            }
            5 => out.truncate(rng.below(len + 1)),
            _ => {
                let (_, other) = &others[rng.below(others.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
        }
    }
    out
}

/// Runs `target` (its `run`) on one input; a panic fails the test with the input shown.
fn one(target: &str, what: &str, run: fn(&[u8]), input: &[u8]) {
    if std::panic::catch_unwind(|| run(input)).is_err() {
        panic!(
            "fuzz target {target} panics on {what}: {:?}",
            input.escape_ascii().to_string()
        );
    }
}

/// Every seed of `target`, then `mutants` mutations of each.
fn replay(target: &str, run: fn(&[u8]), mutants: usize) {
    let seeds = seeds(target);
    for (name, seed) in &seeds {
        one(target, &format!("seed {name}"), run, seed);
    }
    let mut rng = Rng::new(target);
    for (name, seed) in &seeds {
        for k in 0..mutants {
            let input = mutate(&mut rng, seed, &seeds);
            one(target, &format!("mutation {k} of seed {name}"), run, &input);
        }
    }
}

/// One test per target, named after it.
macro_rules! targets {
    ($($name:ident $(/ $div:literal)?),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name), targets::$name::run, MUTANTS_PER_SEED $(/ $div)?);
            }
        )*

        /// Every target this file replays.
        const REPLAYED: &[&str] = &[$(stringify!($name)),*];
    };
}

targets! {
    abac_condition,
    acr_scope,
    arm_ids,
    catalogue_entry,
    // Deriving keys from passwords is slow without optimisation.
    certificate_file / 20,
    challenge,
    docker_config,
    entra_errors,
    jwt_claims,
    redact_scrub,
    registry_errors,
    registry_name,
}

/// Every target declared in `fuzz/Cargo.toml` is replayed here, and has a seed corpus.
#[test]
fn every_fuzz_target_is_replayed() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz manifest");
    let mut declared: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|bin| {
            bin.lines()
                .find_map(|l| l.trim().strip_prefix("name = "))
                .map(|n| n.trim_matches('"'))
        })
        .collect();
    declared.sort_unstable();
    let mut replayed = REPLAYED.to_vec();
    replayed.sort_unstable();
    assert_eq!(
        declared, replayed,
        "fuzz/Cargo.toml's targets and the ones tests/it/fuzz_corpus.rs replays differ"
    );
    for t in declared {
        assert!(
            fuzz_dir().join("corpus").join(t).is_dir(),
            "{t} has no fuzz/corpus/{t}/"
        );
    }
}
