<?php
// Writes password-hash test vectors made by PHP's password_hash (see gen.sh).
$passwords = [
    "correct horse battery staple",
    "",
    "p\u{e4}ssw\u{f6}rd",
    "cafe\u{301}",
    "\u{1f511} \u{43a}\u{43b}\u{44e}\u{447} \u{5bc6}\u{7801}",
    str_repeat("L", 100),
];
$lib = "php " . PHP_VERSION;
function emit($lib, $scheme, $pw, $h, $default = false, $also = []) {
    if (!password_verify($pw, $h) || password_verify("not-" . $pw, $h)) {
        fwrite(STDERR, "self-check failed\n");
        exit(1);
    }
    foreach ($also as $a) {
        if (!password_verify($a, $h)) { fwrite(STDERR, "also failed\n"); exit(1); }
    }
    echo json_encode(["lib" => $lib, "scheme" => $scheme, "password" => $pw, "wrong" => "not-" . $pw,
        "hash" => $h, "default" => $default, "also" => $also]), "\n";
}
foreach ($passwords as $pw) {
    $also = strlen($pw) > 72 ? [substr($pw, 0, 72)] : [];
    emit($lib, "bcrypt", $pw, password_hash($pw, PASSWORD_BCRYPT, ["cost" => 4]), false, $also);
    emit($lib, "argon2id", $pw, password_hash($pw, PASSWORD_ARGON2ID,
        ["memory_cost" => 1024, "time_cost" => 1, "threads" => 1]));
    emit($lib, "argon2i", $pw, password_hash($pw, PASSWORD_ARGON2I,
        ["memory_cost" => 1024, "time_cost" => 2, "threads" => 1]));
}
emit($lib, "bcrypt", $passwords[0], password_hash($passwords[0], PASSWORD_DEFAULT), true);
emit($lib, "argon2id", $passwords[0], password_hash($passwords[0], PASSWORD_ARGON2ID), true);
