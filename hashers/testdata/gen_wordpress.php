<?php
// Writes WordPress 6.8+ "$wp$2y$" vectors made by WordPress's own
// wp_hash_password and checked by its wp_check_password (see gen.sh):
// WP_ROOT names an unpacked WordPress 6.8 (Debian trixie's wordpress
// package, taken with apt-get download and dpkg-deb -x, not installed).
// Only apply_filters is stubbed: it keeps WordPress's defaults, except
// for a low bcrypt cost on the non-default vectors.
$cost = null;
function apply_filters($hook, $value, ...$args) {
    global $cost;
    if ($hook === 'wp_hash_password_options' && $cost !== null) {
        return ['cost' => $cost];
    }
    return $value;
}
define('ABSPATH', getenv('WP_ROOT') . '/');
define('WPINC', 'wp-includes');
require ABSPATH . 'wp-includes/pluggable.php';
include ABSPATH . 'wp-includes/version.php';
$passwords = [
    "correct horse battery staple",
    "",
    "p\u{e4}ssw\u{f6}rd",
    "cafe\u{301}",
    "\u{1f511} \u{43a}\u{43b}\u{44e}\u{447} \u{5bc6}\u{7801}",
    str_repeat("L", 100),
];
$lib = "wordpress $wp_version wp_hash_password, php " . PHP_VERSION;
function emit($lib, $pw, $hash, $default) {
    $refused = [];
    if (strlen($pw) > 72) {
        $refused = [substr($pw, 0, 72), substr($pw, 0, -1), $pw . "L"];
    }
    if ($pw === "p\u{e4}ssw\u{f6}rd") {
        $refused[] = "pa\u{308}sswo\u{308}rd";
    }
    if (!wp_check_password($pw, $hash) || wp_check_password("not-" . $pw, $hash)) {
        fwrite(STDERR, "self-check failed\n");
        exit(1);
    }
    foreach ($refused as $r) {
        if (wp_check_password($r, $hash)) { fwrite(STDERR, "refused candidate matched\n"); exit(1); }
    }
    echo json_encode(["lib" => $lib, "scheme" => "wordpress-bcrypt", "password" => $pw, "wrong" => "not-" . $pw,
        "hash" => $hash, "default" => $default, "also" => [], "refused" => $refused], JSON_UNESCAPED_SLASHES), "\n";
}
$cost = 4;
foreach ($passwords as $pw) {
    emit($lib, $pw, wp_hash_password($pw), false);
}
$cost = null; // WordPress's default: PHP's bcrypt cost 10 (12 since PHP 8.4)
emit($lib, $passwords[0], wp_hash_password($passwords[0]), true);
