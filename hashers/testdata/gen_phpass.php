<?php
// Writes phpass portable-hash vectors made by WordPress's own
// class-phpass.php (see gen.sh): WP_PHPASS names that file, taken from
// Debian's wordpress package without installing it.
require getenv("WP_PHPASS");
$passwords = [
    "correct horse battery staple",
    "",
    "p\u{e4}ssw\u{f6}rd",
    "cafe\u{301}",
    "\u{1f511} \u{43a}\u{43b}\u{44e}\u{447} \u{5bc6}\u{7801}",
    str_repeat("L", 100),
];
// The same package's wp-includes/version.php names the WordPress release.
include dirname(getenv("WP_PHPASS")) . "/version.php";
$version = $wp_version;
foreach ([[8, true], [10, false]] as [$log2, $default]) {
    // WordPress itself uses new PasswordHash(8, true).
    $h = new PasswordHash($log2, true);
    foreach ($default ? $passwords : [$passwords[0], $passwords[4]] as $pw) {
        $hash = $h->HashPassword($pw);
        $refused = [];
        if (strlen($pw) > 72) {
            $refused = [substr($pw, 0, 72), substr($pw, 0, -1), $pw . "L"];
        }
        if ($pw === "p\u{e4}ssw\u{f6}rd") {
            $refused[] = "pa\u{308}sswo\u{308}rd";
        }
        if (!$h->CheckPassword($pw, $hash) || $h->CheckPassword("not-" . $pw, $hash)) {
            fwrite(STDERR, "self-check failed\n");
            exit(1);
        }
        foreach ($refused as $r) {
            if ($h->CheckPassword($r, $hash)) { fwrite(STDERR, "refused candidate matched\n"); exit(1); }
        }
        echo json_encode(["lib" => "wordpress $version class-phpass.php, php " . PHP_VERSION, "scheme" => "phpass",
            "password" => $pw, "wrong" => "not-" . $pw, "hash" => $hash, "default" => $default && $pw === $passwords[0],
            "also" => [], "refused" => $refused], JSON_UNESCAPED_SLASHES), "\n";
    }
}
