//! Avatars: upload checks (type from magic bytes, 2 MiB), the R2 round trip with caching headers, and the profile.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use e2e::{base_url, png, send_chunked, upload_avatar as upload, user_token};
use uuid::Uuid;

/// Taken by the tests that run the cron trigger and by those whose images wait in the removal queue for a while: the
/// test stack's queue is due at once (`AVATAR_REMOVAL_AFTER_SECS=0`, where a deployment waits 10 minutes for a late
/// profile update to land first), so another test's run would remove them before the test is done with them.
static CRON: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes the cron trigger's turn (see [`CRON`]).
fn cron_turn() -> std::sync::MutexGuard<'static, ()> {
    CRON.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn an_uploaded_avatar_is_served_with_immutable_caching_and_set_on_the_profile() {
    let user = Uuid::new_v4();
    let image = png(&user.to_string());
    let reply = upload(&user, "image/png", &image);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let url = reply.json["avatar_url"].as_str().expect("avatar_url").to_owned();
    assert!(url.starts_with(&format!("{}/api/v1/avatars/", base_url())) && url.ends_with(".png"), "{url}");

    let agent = ureq::AgentBuilder::new().build();
    let response = agent.get(&url).call().expect("avatar");
    assert_eq!(response.header("content-type"), Some("image/png"));
    assert_eq!(response.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(response.header("content-length"), Some(image.len().to_string().as_str()));
    let etag = response.header("etag").expect("etag").to_owned();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut body).expect("body");
    assert_eq!(body, image);
    let cached = agent.get(&url).set("If-None-Match", &etag).call().expect("conditional");
    assert_eq!(cached.status(), 304);

    let me = e2e::get_as(&base_url(), "/api/v1/me", &user);
    assert_eq!(me.json["avatar_url"], url);
}

#[test]
fn uploads_are_typed_by_their_bytes_and_limited_to_2_mib() {
    let user = Uuid::new_v4();
    let jpeg_bytes = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("image/gif", b"GIF89a....".to_vec(), 415, "unsupported_media_type"),
        ("image/png", jpeg_bytes.to_vec(), 415, "unsupported_media_type"),
        ("image/png", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(), 415, "unsupported_media_type"),
        ("image/png", [png("big"), vec![0; 2 * 1024 * 1024]].concat(), 413, "payload_too_large"),
    ];
    for (content_type, body, status, code) in cases {
        let reply = upload(&user, content_type, &body);
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (status, Some(code)), "{content_type}");
    }
    let ok = upload(&user, "image/jpeg", &jpeg_bytes);
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    for key in ["nope.png", "../../etc/passwd", &"a".repeat(64)] {
        let reply = e2e::send("GET", &format!("{}/api/v1/avatars/{key}", base_url()), &[], None);
        assert_eq!(reply.status, 404, "{key}");
    }
}

/// A body without a declared length (chunked) is read whole, and refused with 413 once it passes 2 MiB.
#[test]
fn chunked_uploads_are_stored_whole_and_limited_to_2_mib() {
    let user = Uuid::new_v4();
    let auth = format!("Bearer {}", user_token(&user));
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "image/png")];
    let url = format!("{}/api/v1/me/avatar", base_url());
    let mut image = png(&user.to_string());
    image.resize(600 * 1024, 3);
    let stored = send_chunked("POST", &url, &headers, &image);
    assert_eq!(stored.status, 200, "{:?}", stored.json);
    let avatar = ureq::get(stored.json["avatar_url"].as_str().expect("avatar_url")).call().expect("the avatar");
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut avatar.into_reader(), &mut body).expect("body");
    assert!(body == image, "the stored image is the uploaded one");

    image.resize(2 * 1024 * 1024 + 1, 3);
    let refused = send_chunked("POST", &url, &headers, &image);
    assert_eq!((refused.status, refused.json["error"]["code"].as_str()), (413, Some("payload_too_large")));
}

/// Uploads a PNG the Worker must take; its `avatar_url`.
fn upload_ok(user: &Uuid, image: &[u8]) -> String {
    let reply = upload(user, "image/png", image);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    reply.json["avatar_url"].as_str().expect("avatar_url").to_owned()
}

/// Whether the image at `url` is served (200) or gone (404).
fn served(url: &str) -> u16 {
    let path = &url[url.find("/api/").expect("an avatar URL")..];
    e2e::send("GET", &format!("{}{path}", base_url()), &[], None).status
}

/// Delays `user`'s next profile update by an upload (`set_avatar`) by `ms` (the gateway's knob): its reply, or with
/// `before` the statement itself. The rule goes when the guard drops.
fn delay_profile_update(user: &Uuid, ms: u64, before: bool) -> e2e::DatabaseDelay {
    let rule = e2e::DatabaseDelay(vec!["set_avatar".to_owned(), user.to_string()]);
    let texts: Vec<&str> = rule.0.iter().map(String::as_str).collect();
    if before {
        e2e::database_hold(&texts, ms, Some(1));
    } else {
        e2e::database_delay(&texts, ms, Some(1));
    }
    rule
}

/// An upload of a new user whose profile update the Worker gives up on (503): the update held (`before`) or its reply
/// delayed past `POSTGREST_TIMEOUT_MS`, by a rule that stays until the guard drops.
fn upload_given_up(user: &Uuid, before: bool) -> e2e::DatabaseDelay {
    // The profile exists, so the upload's first database call is the update itself.
    assert_eq!(e2e::get_as(&base_url(), "/api/v1/me", user).status, 200);
    let rule = delay_profile_update(user, database_budget_ms() + 2_000, before);
    let reply = upload(user, "image/png", &png(&format!("late {user}")));
    assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (503, Some("dependency_unavailable")));
    rule
}

/// How long the Worker waits for the database API (`POSTGREST_TIMEOUT_MS`).
fn database_budget_ms() -> u64 {
    e2e::worker_var("POSTGREST_TIMEOUT_MS").parse().expect("POSTGREST_TIMEOUT_MS")
}

#[test]
fn a_new_avatar_removes_the_one_it_replaces_and_every_upload_is_its_own_object() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let (first, second) = (png(&format!("first {ana}")), png(&format!("second {ana}")));
    let old = upload_ok(&ana, &first);
    let again = upload_ok(&ana, &first);
    assert_ne!(again, old, "the picture shown now, uploaded again, is another upload's object");
    assert_eq!((served(&old), served(&again)), (404, 200), "which replaced the first");
    let shared = upload_ok(&ben, &second);
    let new = upload_ok(&ana, &second);
    assert_ne!(new, shared, "the same picture of two users is two objects");
    assert_eq!((served(&again), served(&new), served(&shared)), (404, 200, 200), "the replaced image went");
    assert_eq!(e2e::avatar_keys(&ana), vec![e2e::avatar_key(&new)], "the bucket holds only the image Ana shows");

    let auth = format!("Bearer {}", user_token(&ana));
    let deleted = e2e::send("DELETE", &format!("{}/api/v1/me", base_url()), &[("Authorization", &auth)], None);
    assert_eq!(deleted.status, 204, "{:?}", deleted.json);
    assert_eq!((served(&new), served(&shared)), (404, 200), "the account's image went, the other user's stayed");
    assert_eq!(e2e::avatar_keys(&ana), Vec::<String>::new());
}

/// Two uploads of one account at once each store their own object, and the image the profile shows in the end is
/// served. Before, a key was the owner's picture: uploading the shown picture again reused its object, an upload of
/// another picture that landed meanwhile replaced it and removed that object, and then the first upload's profile
/// update pointed the profile at the removed image (a broken avatar, on every board).
#[test]
fn uploads_of_one_account_at_once_never_leave_the_profile_showing_a_removed_image() {
    let user = Uuid::new_v4();
    let (first, second) = (png(&format!("first {user}")), png(&format!("second {user}")));
    upload_ok(&user, &first);
    let hold = delay_profile_update(&user, 2_000, true);
    let again = std::thread::spawn(move || upload(&user, "image/png", &first));
    // The first picture's second upload waits at its profile update; the other picture's upload runs meanwhile.
    let rule: Vec<&str> = hold.0.iter().map(String::as_str).collect();
    let held = e2e::eventually(Duration::from_secs(10), || (!e2e::database_delay_waiting(&rule)).then_some(()));
    assert!(held.is_some(), "the first upload's profile update never came");
    let replaced = upload_ok(&user, &second);
    let again = again.join().expect("the upload thread");
    assert_eq!(again.status, 200, "{:?}", again.json);

    let shown = e2e::get_as(&base_url(), "/api/v1/me", &user).json["avatar_url"].as_str().expect("shown").to_owned();
    assert_eq!(shown, again.json["avatar_url"], "the update that landed last decides");
    assert_eq!(served(&shown), 200, "the image the profile shows is stored");
    assert_eq!(served(&replaced), 404, "the one it replaced went");
    assert_eq!(
        e2e::avatar_keys(&user),
        vec![e2e::avatar_key(&shown)],
        "nothing else of the account is left in the bucket"
    );
}

/// An account's deletion removes every image it stored, not only the one its profile shows: here one an upload left
/// when its profile update was given up (queued for the cron trigger, which would have taken it only later).
#[test]
fn deleting_an_account_removes_every_image_it_stored() {
    let _turn = cron_turn();
    let user = Uuid::new_v4();
    let shown = upload_ok(&user, &png(&format!("shown {user}")));
    // The update waits longer than the upload (and the deletion below): it lands on no profile.
    let _hold = delay_profile_update(&user, database_budget_ms() + 10_000, true);
    let given_up = upload(&user, "image/png", &png(&format!("given up {user}")));
    assert_eq!((given_up.status, given_up.json["error"]["code"].as_str()), (503, Some("dependency_unavailable")));
    let left = e2e::avatar_keys(&user);
    assert_eq!(left.len(), 2, "the shown image and the given-up upload's: {left:?}");

    let auth = format!("Bearer {}", user_token(&user));
    let deleted = e2e::send("DELETE", &format!("{}/api/v1/me", base_url()), &[("Authorization", &auth)], None);
    assert_eq!(deleted.status, 204, "{:?}", deleted.json);
    assert_eq!(served(&shown), 404);
    assert_eq!(e2e::avatar_keys(&user), Vec::<String>::new(), "the given-up upload's image went with the account");
}

/// An image no profile shows any more leaves the bucket even when the Worker never hears of it: an account deleted
/// in Supabase Auth takes its profile with it (the cascade), and the database queues the image for the cron trigger.
#[test]
fn images_no_profile_shows_leave_the_bucket_on_the_cron_trigger() {
    let _turn = cron_turn();
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let queued =
        |url: &str| e2e::sql(&format!("SELECT count(*) FROM public.avatar_removals WHERE avatar_url = '{url}'"));
    let anas = upload_ok(&ana, &png(&format!("cron {ana}")));
    let (first, second) = (png(&format!("first {ben}")), png(&format!("second {ben}")));
    let bens_first = upload_ok(&ben, &first);
    let bens = upload_ok(&ben, &second);
    assert_eq!(queued(&bens_first), "1", "the picture Ben let go of is queued");
    assert_eq!(queued(&bens), "0", "the one he shows is not");

    assert_eq!(e2e::sql(&format!("DELETE FROM auth.users WHERE id = '{ana}' RETURNING 1")), "1");
    assert_eq!(served(&anas), 200, "the Worker never heard of the deletion");
    assert_eq!(queued(&anas), "1", "the cascade's profile deletion queued the image");
    e2e::run_cron();
    assert_eq!((served(&anas), served(&bens)), (404, 200), "Ana's image left the bucket; Ben's stayed");
    assert_eq!((queued(&anas), queued(&bens_first)), ("0".into(), "0".into()), "removed images are off the queue");
}

/// An upload whose profile update was given up queues its image; when the update lands after all, the profile shows
/// the image and the queue lets go of it, so the cron trigger leaves it.
#[test]
fn a_queued_image_that_a_late_profile_update_shows_leaves_the_queue() {
    let _turn = cron_turn();
    let user = Uuid::new_v4();
    let _hold = upload_given_up(&user, true);
    let id = user.to_string();
    let keys = e2e::avatar_keys(&user);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let queued =
        |key: &str| e2e::sql(&format!("SELECT count(*) FROM public.avatar_removals WHERE avatar_url LIKE '%/{key}'"));
    assert_eq!(queued(&keys[0]), "1", "the upload gave its update up and queued the image");
    let shows = e2e::eventually(Duration::from_secs(10), || {
        let shown = e2e::sql(&format!("SELECT avatar_url FROM public.profiles WHERE user_id = '{id}'"));
        shown.ends_with(&keys[0]).then_some(shown)
    });
    let shown = shows.expect("the held update landed");
    assert_eq!(queued(&keys[0]), "0", "shown, it left the queue");
    e2e::run_cron();
    assert_eq!(served(&shown), 200, "and the cron trigger left it");
}

/// An upload whose profile update timed out may have been applied all the same (its reply was lost, not the write):
/// the profile may show the new image, so the image stays in the bucket and the cron trigger leaves it. Before, the
/// upload removed it at once and the profile showed a picture that was gone.
#[test]
fn an_upload_whose_profile_update_timed_out_keeps_the_image_the_profile_may_show() {
    let _turn = cron_turn();
    let user = Uuid::new_v4();
    let _delay = upload_given_up(&user, false);
    let id = user.to_string();

    let shown = e2e::sql(&format!("SELECT avatar_url FROM public.profiles WHERE user_id = '{id}'"));
    assert!(shown.contains("/api/v1/avatars/"), "the update landed after its reply was given up: {shown:?}");
    assert_eq!(served(&shown), 200, "the image the profile shows is stored");
    e2e::run_cron();
    assert_eq!(served(&shown), 200, "and the cron trigger leaves it");
}

/// The cron trigger removes only what no profile shows when it runs: a queued image that a profile shows (queued by
/// an upload whose profile update landed after its reply was given up, say) stays.
#[test]
fn the_cron_trigger_leaves_a_queued_image_that_a_profile_shows() {
    let _turn = cron_turn();
    let user = Uuid::new_v4();
    let url = upload_ok(&user, &png(&format!("shown {user}")));
    let queued = e2e::sql(&format!(
        "INSERT INTO public.avatar_removals (avatar_url, queued_at) VALUES ('{url}', now() - interval '1 day') \
         RETURNING 1"
    ));
    assert_eq!(queued, "1");
    e2e::run_cron();
    assert_eq!(served(&url), 200, "the image the profile shows stayed");
}

/// Which profile shows an image is asked on every avatar change, every account deletion and by the cron trigger; the
/// database answers from an index instead of reading every profile (32 ms an avatar change with 300 000 profiles).
#[test]
fn the_profile_that_shows_an_image_is_found_by_index() {
    let plan = e2e::sql_plans(
        "SELECT 1 FROM public.profiles p WHERE p.avatar_url = 'https://example.com/api/v1/avatars/x.png'",
    );
    assert!(plan.contains("profiles_avatar_url"), "{plan}");
}

/// Uploads whose bodies stall hold nothing another upload needs. Before, an isolate held the images of at most 8
/// uploads at once and a slow body kept its place: 8 stalled uploads of one account made every other upload wait
/// 10 s for a 503.
#[test]
fn stalled_uploads_do_not_keep_other_uploads_waiting() {
    let address = base_url().trim_start_matches("http://").to_owned();
    let token = user_token(&Uuid::new_v4());
    let mut image = png("stalled");
    image.resize(1024 * 1024, 7);
    let stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).expect("connect");
            let head = format!(
                "POST /api/v1/me/avatar HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: image/png\r\nContent-Length: {}\r\n\r\n",
                image.len()
            );
            stream.write_all(head.as_bytes()).expect("head");
            stream.write_all(&image[..4096]).expect("the body's start");
            stream
        })
        .collect();
    // Several in a row, so that the later ones surely arrive after the stalled ones.
    for round in 0..3 {
        let user = Uuid::new_v4();
        let started = Instant::now();
        let reply = upload(&user, "image/png", &png(&user.to_string()));
        assert_eq!(reply.status, 200, "upload {round} beside 8 stalled ones: {:?}", reply.json);
        assert!(started.elapsed() < Duration::from_secs(5), "upload {round} took {:?}", started.elapsed());
    }
    drop(stalled);
}

#[test]
fn large_uploads_at_once_are_all_stored() {
    // Large images (each near the 2 MiB limit), all at once: each is held in the runtime's memory until it is
    // stored, none in the isolate's wasm memory. Eight, not more: 16 at once (32 MiB through wrangler dev's proxy and
    // the local bucket) kept the shared Worker busy long enough, beside the other tests, for its Redis calls to miss
    // their 250 ms and open the breaker, which failed the next test file's Redis checks.
    let users: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
    let replies: Vec<(Vec<u8>, e2e::Reply)> = std::thread::scope(|scope| {
        let uploads: Vec<_> = users
            .iter()
            .map(|user| {
                scope.spawn(move || {
                    let mut image = png(&user.to_string());
                    image.resize(2 * 1024 * 1024 - 1, 7);
                    let reply = upload(user, "image/png", &image);
                    (image, reply)
                })
            })
            .collect();
        uploads.into_iter().map(|upload| upload.join().expect("an upload thread")).collect()
    });
    for (image, reply) in replies {
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        let url = reply.json["avatar_url"].as_str().expect("avatar_url");
        let stored = ureq::get(url).call().expect("the stored avatar");
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut stored.into_reader(), &mut body).expect("body");
        assert!(body == image, "the stored image is the uploaded one");
    }
}
