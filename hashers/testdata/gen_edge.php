<?php
// Writes edge-case vectors made by PHP and WordPress (see gen.sh and
// README.md): password_hash PASSWORD_BCRYPT at every cost 4..12,
// PASSWORD_ARGON2I and PASSWORD_ARGON2ID at non-default memory, time and
// threads; WordPress's own class-phpass.php (WP_PHPASS) at every
// iteration count its constructor takes, and with portable hashes off
// (it then writes bcrypt $2a$); WordPress 6.8's wp_hash_password
// (WP68_ROOT) for passwords over 72 bytes, the cut inside a character.
$passwords = [
    "correct horse battery staple",
    "",
    "p\u{e4}ssw\u{f6}rd",
    "cafe\u{301}",
    "\u{1f511} \u{43a}\u{43b}\u{44e}\u{447} \u{5bc6}\u{7801}",
    str_repeat("L", 100),
    str_repeat("\u{e9}", 40),        // 80 bytes: the 72-byte cut falls inside a character
    str_repeat("a", 71) . "\u{e9}tail",
];
$nfd = ["p\u{e4}ssw\u{f6}rd" => "pa\u{308}sswo\u{308}rd"];

function valid_utf8($s) {
    return preg_match('//u', $s) === 1;
}

// Candidates for pw: [also, refused], for a scheme reading 72 bytes
// ($bcrypt true) or every byte.
function candidates($pw, $bcrypt) {
    global $nfd;
    $also = [];
    $refused = isset($nfd[$pw]) ? [$nfd[$pw]] : [];
    if (strlen($pw) > 72) {
        if ($bcrypt) {
            // Any tail after the first 72 bytes matches, one byte less
            // does not (a prefix cut inside a character is left out).
            $also[] = $pw . "more";
            $also[] = substr($pw, 0, 72);
            $refused[] = substr($pw, 0, 71);
        } else {
            $refused[] = substr($pw, 0, 72);
            $refused[] = $pw . "L";
        }
        $also = array_values(array_filter($also, 'valid_utf8'));
        $refused = array_values(array_filter($refused, 'valid_utf8'));
    }
    return [$also, $refused];
}

function emit($lib, $scheme, $pw, $hash, $check, $bcrypt, $slow = false) {
    [$also, $refused] = candidates($pw, $bcrypt);
    if (!$check($pw, $hash) || $check("not-" . $pw, $hash)) {
        fwrite(STDERR, "self-check failed: $hash\n");
        exit(1);
    }
    foreach ($also as $a) {
        if (!$check($a, $hash)) { fwrite(STDERR, "also failed: $hash\n"); exit(1); }
    }
    foreach ($refused as $r) {
        if ($check($r, $hash)) { fwrite(STDERR, "refused candidate matched: $hash\n"); exit(1); }
    }
    $row = ["lib" => $lib, "scheme" => $scheme, "password" => $pw, "wrong" => "not-" . $pw, "hash" => $hash,
        "default" => false, "also" => $also, "refused" => $refused];
    if ($slow) {
        $row["slow"] = true;
    }
    echo json_encode($row, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}

$php = "php " . PHP_VERSION;
$pv = fn($pw, $h) => password_verify($pw, $h);
foreach (range(4, 12) as $cost) {
    $pws = $cost <= 5 ? $passwords : [$passwords[$cost % count($passwords)]];
    foreach ($pws as $pw) {
        emit($php, "bcrypt", $pw, password_hash($pw, PASSWORD_BCRYPT, ["cost" => $cost]), $pv, true, $cost > 6);
    }
}
foreach ([
    [PASSWORD_ARGON2ID, "argon2id", ["memory_cost" => 2048, "time_cost" => 3, "threads" => 2]],
    [PASSWORD_ARGON2ID, "argon2id", ["memory_cost" => 1000, "time_cost" => 1, "threads" => 3]],
    [PASSWORD_ARGON2ID, "argon2id", ["memory_cost" => 64, "time_cost" => 1, "threads" => 8]],
    [PASSWORD_ARGON2I, "argon2i", ["memory_cost" => 512, "time_cost" => 1, "threads" => 1]],
    [PASSWORD_ARGON2I, "argon2i", ["memory_cost" => 4096, "time_cost" => 5, "threads" => 4]],
] as $i => [$algo, $scheme, $opts]) {
    $pws = $i === 0 ? $passwords : [$passwords[$i], $passwords[($i + 4) % count($passwords)]];
    foreach ($pws as $pw) {
        emit($php, $scheme, $pw, password_hash($pw, $algo, $opts), $pv, false);
    }
}

// PHP's own SHA-crypt (crypt() does not call the C library for $5$ and
// $6$): salts of any bytes but "$" (spaces, punctuation, UTF-8), rounds=
// written with a leading zero (PHP writes the number back without it),
// the empty salt.
$cr = fn($pw, $h) => hash_equals($h, crypt($pw, $h));
foreach (["\$5\$a b!\$", "\$6\$#%&*()[]{}\$", "\$5\$s\u{e4}lz\$", "\$6\$rounds=01000\$ab\$", "\$5\$\$", "\$6\$rounds=1000\$x:y\$"] as $i => $setting) {
    foreach ([$passwords[$i % count($passwords)], $passwords[($i + 3) % count($passwords)]] as $pw) {
        $h = crypt($pw, $setting);
        if (strlen($h) < 13) { fwrite(STDERR, "crypt refused $setting\n"); exit(1); }
        emit($php . " crypt()", $h[1] === "5" ? "sha256-crypt" : "sha512-crypt", $pw, $h, $cr, false);
    }
}

// WordPress's class-phpass.php.
if (getenv("WP_PHPASS")) {
    require getenv("WP_PHPASS");
    include dirname(getenv("WP_PHPASS")) . "/version.php";
    $lib = "wordpress $wp_version class-phpass.php, php " . PHP_VERSION;
    // The constructor takes log2 4..31 and writes min(log2+5, 30): every
    // count character from '7' (2^9) up; here up to 2^18 ('G'), 2^17 and more slow.
    foreach ([4, 5, 6, 7, 9, 11, 13] as $log2) {
        $h = new PasswordHash($log2, true);
        $pw = $passwords[$log2 % count($passwords)];
        $check = fn($p, $x) => $h->CheckPassword($p, $x);
        emit($lib, "phpass", $pw, $h->HashPassword($pw), $check, false, $log2 + 5 > 16);
    }
    // Portable hashes off: class-phpass writes crypt()'s bcrypt, $2a$.
    $h = new PasswordHash(5, false);
    $check = fn($p, $x) => $h->CheckPassword($p, $x);
    foreach ($passwords as $pw) {
        emit($lib, "bcrypt", $pw, $h->HashPassword($pw), $check, true);
    }
}

// WordPress 6.8's wp_hash_password ($wp$2y$, bcrypt of an HMAC-SHA384 of
// every byte).
if (getenv("WP68_ROOT")) {
    $cost = 4;
    function apply_filters($hook, $value, ...$args) {
        global $cost;
        return $hook === 'wp_hash_password_options' ? ['cost' => $cost] : $value;
    }
    define('ABSPATH', getenv('WP68_ROOT') . '/');
    define('WPINC', 'wp-includes');
    require ABSPATH . 'wp-includes/pluggable.php';
    include ABSPATH . 'wp-includes/version.php';
    $lib = "wordpress $wp_version wp_hash_password, php " . PHP_VERSION;
    $check = fn($p, $x) => wp_check_password($p, $x);
    foreach (array_slice($passwords, 5) as $pw) {
        emit($lib, "wordpress-bcrypt", $pw, wp_hash_password($pw), $check, false);
    }
    $cost = 9;
    emit($lib, "wordpress-bcrypt", $passwords[4], wp_hash_password($passwords[4]), $check, false, true);
}
