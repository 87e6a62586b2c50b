;; Byte scans for long header values, sixteen bytes or more at a time
;; (WebAssembly SIMD). lib/scan.ts copies a one-byte string into this memory
;; and asks: where a run of a character class ends (runEnd, runStart), where
;; a quoted-string ends (quotedEnd), the first bad percent escape
;; (percentEnd), the first problem in a path prefix (prefixEnd), where one
;; byte first follows itself (pairEnd), and for a copy without escaping
;; backslashes (unescape). The tests hold each answer to a plain model.
;; `npm run build:wasm` compiles this file into lib/scan-wasm.ts.
;;
;; A class is a bitmap of the 128 ASCII codes, stored as 16 rows: row[c & 15]
;; has bit (c >> 4) set when c is in the class. Bytes 0x80-0xff are all in or
;; all out (`high`). POW2 at offset 0 maps a high nibble to its bit (0 for
;; 8-15, the non-ASCII bytes). Addresses are byte offsets into the memory.
;; The caller keeps 64 bytes of slack after the text and before it: the last,
;; partial block of a scan is read whole, and its extra lanes masked off.
(module
  (memory (export "memory") 1)

  ;; Constant vectors, at the start of the memory. A loop reads each from
  ;; here (v128.load offset=N, with N in the comment): V8 keeps a loaded
  ;; value in a register or reads it as an operand, where a constant written
  ;; in the code (i8x16.splat of a number, v128.const) is built again in
  ;; every pass of the loop, three or four instructions each time.
  ;;   0  POW2: a high nibble to its bit (0 for 8-15, the non-ASCII bytes)
  (data (i32.const 0) "\01\02\04\08\10\20\40\80\00\00\00\00\00\00\00\00")
  ;;  16  HIGH_HEX: for prefixEnd, a high nibble to its bit as in POW2, but
  ;;      0 for 0 and 1 (controls, never in a path) and with bit 0 added
  ;;      for 3 (digits) and bit 1 for 4 and 6 (letters): see HEX_ROWS
  (data (i32.const 16) "\00\00\04\09\12\20\42\80\00\00\00\00\00\00\00\00")
  ;;  32  the low nibble
  (data (i32.const 32) "\0f\0f\0f\0f\0f\0f\0f\0f\0f\0f\0f\0f\0f\0f\0f\0f")
  ;;  48  `/`
  (data (i32.const 48) "\2f\2f\2f\2f\2f\2f\2f\2f\2f\2f\2f\2f\2f\2f\2f\2f")
  ;;  64  `.`
  (data (i32.const 64) "\2e\2e\2e\2e\2e\2e\2e\2e\2e\2e\2e\2e\2e\2e\2e\2e")
  ;;  80  `%`
  (data (i32.const 80) "\25\25\25\25\25\25\25\25\25\25\25\25\25\25\25\25")
  ;;  96  PAIRS: for prefixEnd, by the low nibble of a `%`'s second hex digit
  ;;      (c, e, f), its first digit (5, 2, 2) with bit 0x40 flipped: see there
  (data (i32.const 96) "\00\00\00\75\00\72\72\00\00\00\00\00\00\00\00\00")
  ;; 112  0x40, the bit that sets letters apart from digits
  (data (i32.const 112) "\40\40\40\40\40\40\40\40\40\40\40\40\40\40\40\40")
  ;; 128  0x20, which lowercases a letter
  (data (i32.const 128) "\20\20\20\20\20\20\20\20\20\20\20\20\20\20\20\20")
  ;; 144  HEX_ROWS: bit 0 in the rows of the digits' low nibbles (0-9), bit
  ;;      1 in the letters' (1-6): with HIGH_HEX, the hex digits as a class
  (data (i32.const 144) "\01\03\03\03\03\03\03\01\01\01\00\00\00\00\00\00")
  ;; 160  3, the two hex bits
  (data (i32.const 160) "\03\03\03\03\03\03\03\03\03\03\03\03\03\03\03\03")
  ;; 176  (written by prefixEnd at each call: its class rows with HEX_ROWS)
  ;; 192  `\\`
  (data (i32.const 192) "\5c\5c\5c\5c\5c\5c\5c\5c\5c\5c\5c\5c\5c\5c\5c\5c")
  ;; 208  `"`
  (data (i32.const 208) "\22\22\22\22\22\22\22\22\22\22\22\22\22\22\22\22")
  ;; 224  0x1f, the last control byte
  (data (i32.const 224) "\1f\1f\1f\1f\1f\1f\1f\1f\1f\1f\1f\1f\1f\1f\1f\1f")
  ;; 240  9, which is also HTAB
  (data (i32.const 240) "\09\09\09\09\09\09\09\09\09\09\09\09\09\09\09\09")
  ;; 256  DEL
  (data (i32.const 256) "\7f\7f\7f\7f\7f\7f\7f\7f\7f\7f\7f\7f\7f\7f\7f\7f")
  ;; 272  `0`
  (data (i32.const 272) "\30\30\30\30\30\30\30\30\30\30\30\30\30\30\30\30")
  ;; 288  `a`
  (data (i32.const 288) "\61\61\61\61\61\61\61\61\61\61\61\61\61\61\61\61")
  ;; 304  5
  (data (i32.const 304) "\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05\05")
  ;; 320  `A`
  (data (i32.const 320) "\41\41\41\41\41\41\41\41\41\41\41\41\41\41\41\41")
  ;; 336  25, the letters after `A`
  (data (i32.const 336) "\19\19\19\19\19\19\19\19\19\19\19\19\19\19\19\19")
  ;; 352  K, foldHash's multiplier, in four 32-bit lanes
  (data (i32.const 352) "\b1\79\37\9e\b1\79\37\9e\b1\79\37\9e\b1\79\37\9e")
  ;; The first address after them, where the caller's memory starts.
  (global (export "dataEnd") i32 (i32.const 368))

  ;; The class test, written out in each loop below (a call per block costs
  ;; more than the test): for the block $v, with the class's rows in $rows,
  ;; POW2 in $pow2 and the high-byte answer in $high, the lanes NOT in the
  ;; class, as 16 mask bits:
  ;;
  ;;   row  = swizzle(rows, v & 15)          the row for the low nibble
  ;;   bit  = swizzle(pow2, (v >>16 4) & 15)  the bit for the high nibble (0 for >= 8)
  ;;   out  = bitmask((row & bit) == 0  &~  (v >= 0x80) & high)
  ;;
  ;; (The high nibble is shifted in 16-bit lanes and masked: V8 builds the
  ;; mask of an 8-bit shift again at each use. And `== 0` is one
  ;; instruction, where `!= 0` is three.)

  ;; The first address in [pos, end) whose byte is not in the class, or end.
  (func (export "runEnd") (param $pos i32) (param $end i32) (param $at i32) (param $highBytes i32) (result i32)
    (local $rows v128) (local $pow2 v128) (local $high v128) (local $low v128) (local $v v128) (local $out i32)
    (local.set $rows (v128.load (local.get $at)))
    (local.set $pow2 (v128.load (i32.const 0)))
    (local.set $high (i8x16.splat (local.get $highBytes)))
    (local.set $low (v128.load offset=32 (i32.const 0)))
    (block $tail
      (loop $block
        (br_if $tail (i32.gt_u (i32.add (local.get $pos) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $pos)))
        (local.set $out (i8x16.bitmask (v128.andnot
          (i8x16.eq (v128.and
              (i8x16.swizzle (local.get $rows) (v128.and (local.get $v) (local.get $low)))
              (i8x16.swizzle (local.get $pow2) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low))))
            (v128.const i64x2 0 0))
          (v128.and (i8x16.lt_s (local.get $v) (v128.const i64x2 0 0)) (local.get $high)))))
        (if (local.get $out)
          (then (return (i32.add (local.get $pos) (i32.ctz (local.get $out))))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 16)))
        (br $block)))
    (if (i32.ge_u (local.get $pos) (local.get $end)) (then (return (local.get $end))))
    ;; A partial block: the lane at `end` stops the run.
    (local.set $v (v128.load (local.get $pos)))
    (local.set $out (i8x16.bitmask (v128.andnot
      (i8x16.eq (v128.and
          (i8x16.swizzle (local.get $rows) (v128.and (local.get $v) (local.get $low)))
          (i8x16.swizzle (local.get $pow2) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low))))
        (v128.const i64x2 0 0))
      (v128.and (i8x16.lt_s (local.get $v) (v128.const i64x2 0 0)) (local.get $high)))))
    (i32.add (local.get $pos)
      (i32.ctz (i32.or (local.get $out) (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $pos)))))))

  ;; The first address of the run of class bytes that ends at `pos` and does
  ;; not start before `start`: [result, pos) are all in the class.
  (func (export "runStart") (param $start i32) (param $pos i32) (param $at i32) (param $highBytes i32) (result i32)
    (local $rows v128) (local $pow2 v128) (local $high v128) (local $low v128) (local $v v128) (local $out i32) (local $base i32)
    (local.set $rows (v128.load (local.get $at)))
    (local.set $pow2 (v128.load (i32.const 0)))
    (local.set $high (i8x16.splat (local.get $highBytes)))
    (local.set $low (v128.load offset=32 (i32.const 0)))
    (block $tail
      (loop $block
        (br_if $tail (i32.lt_u (i32.sub (local.get $pos) (local.get $start)) (i32.const 16)))
        (local.set $base (i32.sub (local.get $pos) (i32.const 16)))
        (local.set $v (v128.load (local.get $base)))
        (local.set $out (i8x16.bitmask (v128.andnot
          (i8x16.eq (v128.and
              (i8x16.swizzle (local.get $rows) (v128.and (local.get $v) (local.get $low)))
              (i8x16.swizzle (local.get $pow2) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low))))
            (v128.const i64x2 0 0))
          (v128.and (i8x16.lt_s (local.get $v) (v128.const i64x2 0 0)) (local.get $high)))))
        (if (local.get $out)
          (then (return (i32.sub (local.get $pos) (i32.clz (i32.shl (local.get $out) (i32.const 16)))))))
        (local.set $pos (local.get $base))
        (br $block)))
    (if (i32.le_u (local.get $pos) (local.get $start)) (then (return (local.get $start))))
    ;; A partial block: the lane before `start` stops the run.
    (local.set $base (i32.sub (local.get $pos) (i32.const 16)))
    (local.set $v (v128.load (local.get $base)))
    (local.set $out (i8x16.bitmask (v128.andnot
      (i8x16.eq (v128.and
          (i8x16.swizzle (local.get $rows) (v128.and (local.get $v) (local.get $low)))
          (i8x16.swizzle (local.get $pow2) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low))))
        (v128.const i64x2 0 0))
      (v128.and (i8x16.lt_s (local.get $v) (v128.const i64x2 0 0)) (local.get $high)))))
    (i32.sub (local.get $pos)
      (i32.clz (i32.shl
        (i32.or (local.get $out)
          (i32.shl (i32.const 1) (i32.sub (i32.sub (local.get $start) (local.get $base)) (i32.const 1))))
        (i32.const 16)))))

  ;; The address of the first `%` in [pos, end) that is not followed by two
  ;; hex digits inside [pos, end), or end if there is none (RFC 3986
  ;; pct-encoded). 64 bytes at a time: a mask of their `%` and one of their
  ;; hex digits (and of the next block's, for a `%` in the last two lanes);
  ;; a `%` needs hex digits one and two lanes on.
  (func (export "percentEnd") (param $pos i32) (param $end i32) (result i32)
    (local $percents i64) (local $hex i64) (local $next i64) (local $ok i64) (local $bad i64) (local $left i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $percent v128) (local $zero v128) (local $nine v128) (local $case v128) (local $a v128) (local $five v128)
    (local.set $percent (v128.load offset=80 (i32.const 0)))
    (local.set $zero (v128.load offset=272 (i32.const 0)))
    (local.set $nine (v128.load offset=240 (i32.const 0)))
    (local.set $case (v128.load offset=128 (i32.const 0)))
    (local.set $a (v128.load offset=288 (i32.const 0)))
    (local.set $five (v128.load offset=304 (i32.const 0)))
    (block $done
      (loop $chunk
        (local.set $left (i32.sub (local.get $end) (local.get $pos)))
        (br_if $done (i32.le_s (local.get $left) (i32.const 0)))
        (local.set $v0 (v128.load (local.get $pos)))
        (local.set $v1 (v128.load offset=16 (local.get $pos)))
        (local.set $v2 (v128.load offset=32 (local.get $pos)))
        (local.set $v3 (v128.load offset=48 (local.get $pos)))
        (local.set $percents (i64.or
          (i64.or
            (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $percent))))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $percent)))) (i64.const 16)))
          (i64.or
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $percent)))) (i64.const 32))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $percent)))) (i64.const 48)))))
        (if (i32.lt_u (local.get $left) (i32.const 64))
          (then (local.set $percents (i64.and (local.get $percents)
            (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $left))) (i64.const 1))))))
        ;; Most chunks of a long host hold no `%`: nothing more to look at.
        (if (i64.ne (local.get $percents) (i64.const 0))
          (then
            ;; hex digits: c - '0' <= 9, or (c | 0x20) - 'a' <= 5 (unsigned)
            (local.set $hex (i64.or
              (i64.or
                (i64.extend_i32_u (i8x16.bitmask (v128.or
                  (i8x16.eq (i8x16.min_u (i8x16.sub (local.get $v0) (local.get $zero)) (local.get $nine)) (i8x16.sub (local.get $v0) (local.get $zero)))
                  (i8x16.eq (i8x16.min_u (i8x16.sub (v128.or (local.get $v0) (local.get $case)) (local.get $a)) (local.get $five)) (i8x16.sub (v128.or (local.get $v0) (local.get $case)) (local.get $a))))))
                (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or
                  (i8x16.eq (i8x16.min_u (i8x16.sub (local.get $v1) (local.get $zero)) (local.get $nine)) (i8x16.sub (local.get $v1) (local.get $zero)))
                  (i8x16.eq (i8x16.min_u (i8x16.sub (v128.or (local.get $v1) (local.get $case)) (local.get $a)) (local.get $five)) (i8x16.sub (v128.or (local.get $v1) (local.get $case)) (local.get $a)))))) (i64.const 16)))
              (i64.or
                (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or
                  (i8x16.eq (i8x16.min_u (i8x16.sub (local.get $v2) (local.get $zero)) (local.get $nine)) (i8x16.sub (local.get $v2) (local.get $zero)))
                  (i8x16.eq (i8x16.min_u (i8x16.sub (v128.or (local.get $v2) (local.get $case)) (local.get $a)) (local.get $five)) (i8x16.sub (v128.or (local.get $v2) (local.get $case)) (local.get $a)))))) (i64.const 32))
                (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or
                  (i8x16.eq (i8x16.min_u (i8x16.sub (local.get $v3) (local.get $zero)) (local.get $nine)) (i8x16.sub (local.get $v3) (local.get $zero)))
                  (i8x16.eq (i8x16.min_u (i8x16.sub (v128.or (local.get $v3) (local.get $case)) (local.get $a)) (local.get $five)) (i8x16.sub (v128.or (local.get $v3) (local.get $case)) (local.get $a)))))) (i64.const 48)))))
            ;; the next two bytes' (only a `%` in the last two lanes needs them)
            (local.set $next (i64.const 0))
            (if (i64.ne (i64.shr_u (local.get $percents) (i64.const 62)) (i64.const 0))
              (then (local.set $next (i64.extend_i32_u (call $hexMask (i32.add (local.get $pos) (i32.const 64)) (local.get $end))))))
            ;; no hex digit at end or past it
            (if (i32.lt_u (local.get $left) (i32.const 64))
              (then (local.set $hex (i64.and (local.get $hex)
                (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $left))) (i64.const 1))))))
            (local.set $ok (i64.or
              (i64.and (i64.shr_u (local.get $hex) (i64.const 1)) (i64.shr_u (local.get $hex) (i64.const 2)))
              (i64.or
                (i64.shl (i64.and (i64.and (i64.shr_u (local.get $hex) (i64.const 63)) (local.get $next)) (i64.const 1)) (i64.const 62))
                (i64.shl (i64.and (i64.and (local.get $next) (i64.shr_u (local.get $next) (i64.const 1))) (i64.const 1)) (i64.const 63)))))
            (local.set $bad (i64.and (local.get $percents) (i64.xor (local.get $ok) (i64.const -1))))
            (if (i64.ne (local.get $bad) (i64.const 0))
              (then (return (i32.add (local.get $pos) (i32.wrap_i64 (i64.ctz (local.get $bad)))))))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 64)))
        (br $chunk)))
    (local.get $end))

  ;; The hex digits of the block at `at`, as 16 mask bits; none at `end` or past it.
  (func $hexMask (param $at i32) (param $end i32) (result i32)
    (local $v v128) (local $mask i32)
    (if (i32.ge_s (local.get $at) (local.get $end)) (then (return (i32.const 0))))
    (local.set $v (v128.load (local.get $at)))
    (local.set $mask (i8x16.bitmask (v128.or
      (i8x16.lt_u (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x30))) (i8x16.splat (i32.const 10)))
      (i8x16.lt_u (i8x16.sub (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))) (i8x16.splat (i32.const 0x61))) (i8x16.splat (i32.const 6))))))
    (if (i32.lt_u (i32.sub (local.get $end) (local.get $at)) (i32.const 16))
      (then (local.set $mask (i32.and (local.get $mask)
        (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $at))) (i32.const 1))))))
    (local.get $mask))

  ;; A path prefix, [pos, end): 0 when it is sound, else an address at or
  ;; after pos (of the 64-byte chunk where the scan saw the first problem): a
  ;; character outside the class whose rows are at `at` (a class of
  ;; printable ASCII that holds the hex digits, as a path's does: the rows of
  ;; controls carry the hex bits here, and bytes 0x80-0xff are out), a `%`
  ;; without two hex digits, an encoded `/` or `\` (`%2f`, `%5c`), or a dot
  ;; segment (`.`, `..`, `%2e`, in any mix).
  ;;
  ;; Each lane looks back, never ahead, so that every block costs about the
  ;; same whatever it holds: the byte at j is read with the two before it
  ;; (loads at j-1 and j-2). In a block with a `%` one or two bytes back
  ;; somewhere:
  ;; - One lookup serves both the class and the hex digits. The class rows
  ;;   get HEX_ROWS in bits 0 and 1 (the rows of controls, which no path
  ;;   holds), and HIGH_HEX sends the high nibble of a digit or letter to
  ;;   that bit as well as to its own. So t = row & bit is 0 outside the
  ;;   class, and t & 3 is 0 for a byte that is no hex digit: a lane with a
  ;;   `%` one or two back is tested on t & 3, any other on t.
  ;; - An encoded byte ends at j when j-2 is a `%`. It is `/`, `\` or `.`
  ;;   (`%2f`, `%5c`, `%2e`, either case) when j's low nibble is 6, 3 or 5
  ;;   and j is a letter, with j-1 then `2`, `5`, `2`: PAIRS holds those
  ;;   digits, by that nibble, with bit 0x40 flipped, and j-1 is compared
  ;;   with it after flipping the same bit when j is a letter (j-1 and j
  ;;   are hex digits here, or the lane is a problem anyway). Those ends are
  ;;   one mask; those whose nibble is not 5 are problems. (A pair of other
  ;;   bytes can match too, `%@A` say; its digits are not hex, so that lane
  ;;   or the one before is a problem as well.)
  ;; Problems gather in one vector per chunk.
  ;;
  ;; Four blocks make a 64-byte chunk, whose lanes are bits of 64-bit masks:
  ;; `/`, `.` and encoded ends. Dot segments are found on those masks once
  ;; per chunk, with the top bits of the last chunk's carried in: a `/` at j
  ;; closes one when the one or two dot units before it follow a `/` (seven
  ;; bytes back at most). An encoded `/` or `\` counts as a unit there too,
  ;; which cannot matter: its chunk has a problem already.
  ;;
  ;; The caller puts two zero bytes before the prefix and 65 `/` after it,
  ;; as far as the last chunk reads (end+64): a `%` in the last two places
  ;; finds no hex digits, the `/` at end closes the last segment, and
  ;; nothing past that is a problem. (When the length is a multiple of 64,
  ;; a last chunk of `/` alone closes the last segment.)
  ;;
  ;; $zero and $bad start at zero, as every local does, and $bad stays zero
  ;; from chunk to chunk (a chunk with a problem returns).
  (func (export "prefixEnd") (param $pos i32) (param $end i32) (param $at i32) (result i32)
    (local $p i32)
    (local $S i64) (local $D i64) (local $E i64) (local $g i64) (local $h i64)
    (local $lastS i64) (local $lastG i64) (local $lastH i64)
    (local $rows v128) (local $high v128) (local $low v128) (local $zero v128) (local $hexBits v128)
    (local $slash v128) (local $pct v128) (local $pairs v128) (local $letter v128) (local $five v128)
    (local $v v128) (local $v1 v128) (local $v2 v128) (local $lo v128) (local $t v128) (local $pct2 v128) (local $pcts v128) (local $x v128) (local $bad v128)
    ;; The rows with HEX_ROWS are stored and loaded back: V8 would otherwise
    ;; compute the v128.or again in every pass of the loop.
    (v128.store offset=176 (i32.const 0) (v128.or (v128.load (local.get $at)) (v128.load offset=144 (i32.const 0))))
    (local.set $rows (v128.load offset=176 (i32.const 0)))
    (local.set $high (v128.load offset=16 (i32.const 0)))
    (local.set $low (v128.load offset=32 (i32.const 0)))
    (local.set $hexBits (v128.load offset=160 (i32.const 0)))
    (local.set $slash (v128.load offset=48 (i32.const 0)))
    (local.set $pct (v128.load offset=80 (i32.const 0)))
    (local.set $pairs (v128.load offset=96 (i32.const 0)))
    (local.set $letter (v128.load offset=112 (i32.const 0)))
    (local.set $five (v128.load offset=304 (i32.const 0)))
    ;; $p is two bytes before the chunk: bit i of its masks is the byte at p+2+i
    (local.set $p (i32.sub (local.get $pos) (i32.const 2)))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $S (i64.const 0))
        (local.set $E (i64.const 0))
        ;; block 0: bytes p+2..p+17
        (local.set $v2 (v128.load offset=0 (local.get $p)))
        (local.set $v1 (v128.load offset=1 (local.get $p)))
        (local.set $v (v128.load offset=2 (local.get $p)))
        (local.set $S (i64.or (local.get $S) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (local.get $slash)))) (i64.const 0))))
        (local.set $lo (v128.and (local.get $v) (local.get $low)))
        (local.set $t (v128.and (i8x16.swizzle (local.get $rows) (local.get $lo))
          (i8x16.swizzle (local.get $high) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
        (local.set $pct2 (i8x16.eq (local.get $v2) (local.get $pct)))
        (local.set $pcts (v128.or (local.get $pct2) (i8x16.eq (local.get $v1) (local.get $pct))))
        (if (i8x16.bitmask (local.get $pcts))
          (then
            (local.set $x (v128.and (local.get $pct2)
              (i8x16.eq (v128.xor (local.get $v1) (v128.and (local.get $v) (local.get $letter))) (i8x16.swizzle (local.get $pairs) (local.get $lo)))))
            (local.set $E (i64.or (local.get $E) (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $x))) (i64.const 0))))
            (local.set $bad (v128.or (local.get $bad) (v128.or
              (i8x16.eq (v128.andnot (local.get $t) (v128.andnot (local.get $pcts) (local.get $hexBits))) (local.get $zero))
              (v128.andnot (local.get $x) (i8x16.eq (local.get $lo) (local.get $five)))))))
          (else
            (local.set $bad (v128.or (local.get $bad) (i8x16.eq (local.get $t) (local.get $zero))))))
        ;; block 1: bytes p+18..p+33
        (local.set $v2 (v128.load offset=16 (local.get $p)))
        (local.set $v1 (v128.load offset=17 (local.get $p)))
        (local.set $v (v128.load offset=18 (local.get $p)))
        (local.set $S (i64.or (local.get $S) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (local.get $slash)))) (i64.const 16))))
        (local.set $lo (v128.and (local.get $v) (local.get $low)))
        (local.set $t (v128.and (i8x16.swizzle (local.get $rows) (local.get $lo))
          (i8x16.swizzle (local.get $high) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
        (local.set $pct2 (i8x16.eq (local.get $v2) (local.get $pct)))
        (local.set $pcts (v128.or (local.get $pct2) (i8x16.eq (local.get $v1) (local.get $pct))))
        (if (i8x16.bitmask (local.get $pcts))
          (then
            (local.set $x (v128.and (local.get $pct2)
              (i8x16.eq (v128.xor (local.get $v1) (v128.and (local.get $v) (local.get $letter))) (i8x16.swizzle (local.get $pairs) (local.get $lo)))))
            (local.set $E (i64.or (local.get $E) (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $x))) (i64.const 16))))
            (local.set $bad (v128.or (local.get $bad) (v128.or
              (i8x16.eq (v128.andnot (local.get $t) (v128.andnot (local.get $pcts) (local.get $hexBits))) (local.get $zero))
              (v128.andnot (local.get $x) (i8x16.eq (local.get $lo) (local.get $five)))))))
          (else
            (local.set $bad (v128.or (local.get $bad) (i8x16.eq (local.get $t) (local.get $zero))))))
        ;; block 2: bytes p+34..p+49
        (local.set $v2 (v128.load offset=32 (local.get $p)))
        (local.set $v1 (v128.load offset=33 (local.get $p)))
        (local.set $v (v128.load offset=34 (local.get $p)))
        (local.set $S (i64.or (local.get $S) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (local.get $slash)))) (i64.const 32))))
        (local.set $lo (v128.and (local.get $v) (local.get $low)))
        (local.set $t (v128.and (i8x16.swizzle (local.get $rows) (local.get $lo))
          (i8x16.swizzle (local.get $high) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
        (local.set $pct2 (i8x16.eq (local.get $v2) (local.get $pct)))
        (local.set $pcts (v128.or (local.get $pct2) (i8x16.eq (local.get $v1) (local.get $pct))))
        (if (i8x16.bitmask (local.get $pcts))
          (then
            (local.set $x (v128.and (local.get $pct2)
              (i8x16.eq (v128.xor (local.get $v1) (v128.and (local.get $v) (local.get $letter))) (i8x16.swizzle (local.get $pairs) (local.get $lo)))))
            (local.set $E (i64.or (local.get $E) (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $x))) (i64.const 32))))
            (local.set $bad (v128.or (local.get $bad) (v128.or
              (i8x16.eq (v128.andnot (local.get $t) (v128.andnot (local.get $pcts) (local.get $hexBits))) (local.get $zero))
              (v128.andnot (local.get $x) (i8x16.eq (local.get $lo) (local.get $five)))))))
          (else
            (local.set $bad (v128.or (local.get $bad) (i8x16.eq (local.get $t) (local.get $zero))))))
        ;; block 3: bytes p+50..p+65
        (local.set $v2 (v128.load offset=48 (local.get $p)))
        (local.set $v1 (v128.load offset=49 (local.get $p)))
        (local.set $v (v128.load offset=50 (local.get $p)))
        (local.set $S (i64.or (local.get $S) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (local.get $slash)))) (i64.const 48))))
        (local.set $lo (v128.and (local.get $v) (local.get $low)))
        (local.set $t (v128.and (i8x16.swizzle (local.get $rows) (local.get $lo))
          (i8x16.swizzle (local.get $high) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
        (local.set $pct2 (i8x16.eq (local.get $v2) (local.get $pct)))
        (local.set $pcts (v128.or (local.get $pct2) (i8x16.eq (local.get $v1) (local.get $pct))))
        (if (i8x16.bitmask (local.get $pcts))
          (then
            (local.set $x (v128.and (local.get $pct2)
              (i8x16.eq (v128.xor (local.get $v1) (v128.and (local.get $v) (local.get $letter))) (i8x16.swizzle (local.get $pairs) (local.get $lo)))))
            (local.set $E (i64.or (local.get $E) (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $x))) (i64.const 48))))
            (local.set $bad (v128.or (local.get $bad) (v128.or
              (i8x16.eq (v128.andnot (local.get $t) (v128.andnot (local.get $pcts) (local.get $hexBits))) (local.get $zero))
              (v128.andnot (local.get $x) (i8x16.eq (local.get $lo) (local.get $five)))))))
          (else
            (local.set $bad (v128.or (local.get $bad) (i8x16.eq (local.get $t) (local.get $zero))))))
        (if (i8x16.bitmask (local.get $bad)) (then (return (i32.add (local.get $p) (i32.const 2)))))
        ;; Dot segments, in a chunk with a `/` (a chunk without one closes
        ;; none, and hands nothing on): g, a dot unit right after a `/`, marked
        ;; where the unit ends; h, the end of one such unit, or of a second
        ;; unit right after one; a `/` right after h closes a dot segment.
        ;; (x << k, with the last chunk's top k bits below: the lane k bytes
        ;; back.) The `.`s are looked for only here.
        (if (i64.eqz (local.get $S))
          (then
            (local.set $lastS (i64.const 0))
            (local.set $lastG (i64.const 0))
            (local.set $lastH (i64.const 0)))
          (else
            (local.set $D (i64.or
              (i64.or
                (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=2 (local.get $p)) (v128.load offset=64 (i32.const 0)))))
                (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=18 (local.get $p)) (v128.load offset=64 (i32.const 0))))) (i64.const 16)))
              (i64.or
                (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=34 (local.get $p)) (v128.load offset=64 (i32.const 0))))) (i64.const 32))
                (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=50 (local.get $p)) (v128.load offset=64 (i32.const 0))))) (i64.const 48)))))
            (local.set $g (i64.or
              (i64.and (local.get $D) (i64.or (i64.shl (local.get $S) (i64.const 1)) (i64.shr_u (local.get $lastS) (i64.const 63))))
              (i64.and (local.get $E) (i64.or (i64.shl (local.get $S) (i64.const 3)) (i64.shr_u (local.get $lastS) (i64.const 61))))))
            (local.set $h (i64.or (local.get $g) (i64.or
              (i64.and (local.get $D) (i64.or (i64.shl (local.get $g) (i64.const 1)) (i64.shr_u (local.get $lastG) (i64.const 63))))
              (i64.and (local.get $E) (i64.or (i64.shl (local.get $g) (i64.const 3)) (i64.shr_u (local.get $lastG) (i64.const 61)))))))
            (if (i64.ne (i64.const 0)
                (i64.and (local.get $S) (i64.or (i64.shl (local.get $h) (i64.const 1)) (i64.shr_u (local.get $lastH) (i64.const 63)))))
              (then (return (i32.add (local.get $p) (i32.const 2)))))
            (local.set $lastS (local.get $S))
            (local.set $lastG (local.get $g))
            (local.set $lastH (local.get $h))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $chunk)))
    (i32.const 0))

  ;; The first address in (pos, end) whose byte and the byte before it are
  ;; both `byte`, or end. (A value with `\\` in it is not what a
  ;; quoted-pair scan of it may assume: lib/resolve.ts asks.) Lane k of a
  ;; block is the pair at p+k and p+1+k.
  (func (export "pairEnd") (param $pos i32) (param $end i32) (param $byte i32) (result i32)
    (local $b v128) (local $pairs i32)
    (local.set $b (i8x16.splat (local.get $byte)))
    (block $done
      (loop $block
        (br_if $done (i32.ge_s (i32.add (local.get $pos) (i32.const 1)) (local.get $end)))
        (local.set $pairs (i8x16.bitmask (v128.and
          (i8x16.eq (v128.load (local.get $pos)) (local.get $b))
          (i8x16.eq (v128.load offset=1 (local.get $pos)) (local.get $b)))))
        ;; pairs whose second byte is at end or past it are not the text's
        (if (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 17))
          (then (local.set $pairs (i32.and (local.get $pairs)
            (i32.sub (i32.shl (i32.const 1) (i32.sub (i32.sub (local.get $end) (local.get $pos)) (i32.const 1))) (i32.const 1))))))
        (if (local.get $pairs)
          (then (return (i32.add (i32.add (local.get $pos) (i32.const 1)) (i32.ctz (local.get $pairs))))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 16)))
        (br $block)))
    (local.get $end))

  ;; A hash of [pos, end) with ASCII letters lowercased, started from `seed`:
  ;; names that differ only in case hash alike. Each 16-byte block is folded
  ;; into one of four accumulators in turn, 64 bytes per pass (one
  ;; accumulator would wait on each multiply before the next); each fold is a
  ;; multiply of four 32-bit lanes and a fold of their high bits down. A
  ;; block is lowercased first (0x20 added where v - `A` <= 25, unsigned),
  ;; and the lanes of a last, partial block past `end` zeroed. The four are
  ;; then folded into one, and its lanes mixed in one by one. The seed is
  ;; secret per process, and nothing cancels out of it, so colliding names
  ;; cannot be made without knowing it.
  (func (export "foldHash") (param $pos i32) (param $end i32) (param $seed i32) (result i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s v128)
    (local $k v128) (local $A v128) (local $letters v128) (local $case v128) (local $v v128) (local $d v128) (local $h i32) (local $n i32)
    ;; Each accumulator, and each lane, starts from its own value, so that
    ;; lanes holding the same bytes do not end equal.
    (local.set $s (i32x4.splat (local.get $seed)))
    (local.set $a0 (v128.xor (local.get $s) (v128.const i32x4 0x243f6a88 0x85a308d3 0x13198a2e 0x03707344)))
    (local.set $a1 (v128.xor (local.get $s) (v128.const i32x4 0xa4093822 0x299f31d0 0x082efa98 0xec4e6c89)))
    (local.set $a2 (v128.xor (local.get $s) (v128.const i32x4 0x452821e6 0x38d01377 0xbe5466cf 0x34e90c6c)))
    (local.set $a3 (v128.xor (local.get $s) (v128.const i32x4 0xc0ac29b7 0xc97c50dd 0x3f84d5b5 0xb5470917)))
    (local.set $k (v128.load offset=352 (i32.const 0)))
    (local.set $A (v128.load offset=320 (i32.const 0)))
    (local.set $letters (v128.load offset=336 (i32.const 0)))
    (local.set $case (v128.load offset=128 (i32.const 0)))
    (local.set $n (i32.sub (local.get $end) (local.get $pos)))
    (block $rest
      (loop $chunk
        (br_if $rest (i32.lt_s (i32.sub (local.get $end) (local.get $pos)) (i32.const 64)))
        (local.set $a0 (i32x4.mul (v128.xor (local.get $a0) (i8x16.add (local.tee $v (v128.load (local.get $pos))) (v128.and (local.get $case) (i8x16.eq (i8x16.min_u (local.tee $d (i8x16.sub (local.get $v) (local.get $A))) (local.get $letters)) (local.get $d))))) (local.get $k)))
        (local.set $a0 (v128.xor (local.get $a0) (i32x4.shr_u (local.get $a0) (i32.const 15))))
        (local.set $a1 (i32x4.mul (v128.xor (local.get $a1) (i8x16.add (local.tee $v (v128.load offset=16 (local.get $pos))) (v128.and (local.get $case) (i8x16.eq (i8x16.min_u (local.tee $d (i8x16.sub (local.get $v) (local.get $A))) (local.get $letters)) (local.get $d))))) (local.get $k)))
        (local.set $a1 (v128.xor (local.get $a1) (i32x4.shr_u (local.get $a1) (i32.const 15))))
        (local.set $a2 (i32x4.mul (v128.xor (local.get $a2) (i8x16.add (local.tee $v (v128.load offset=32 (local.get $pos))) (v128.and (local.get $case) (i8x16.eq (i8x16.min_u (local.tee $d (i8x16.sub (local.get $v) (local.get $A))) (local.get $letters)) (local.get $d))))) (local.get $k)))
        (local.set $a2 (v128.xor (local.get $a2) (i32x4.shr_u (local.get $a2) (i32.const 15))))
        (local.set $a3 (i32x4.mul (v128.xor (local.get $a3) (i8x16.add (local.tee $v (v128.load offset=48 (local.get $pos))) (v128.and (local.get $case) (i8x16.eq (i8x16.min_u (local.tee $d (i8x16.sub (local.get $v) (local.get $A))) (local.get $letters)) (local.get $d))))) (local.get $k)))
        (local.set $a3 (v128.xor (local.get $a3) (i32x4.shr_u (local.get $a3) (i32.const 15))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 64)))
        (br $chunk)))
    ;; Under 64 bytes left: up to four blocks, the last maybe partial,
    ;; folded into the accumulators in the same turn.
    (block $done
      (loop $block
        (br_if $done (i32.ge_s (local.get $pos) (local.get $end)))
        (local.set $v (v128.load (local.get $pos)))
        (local.set $v (i8x16.add (local.get $v) (v128.and (local.get $case) (i8x16.eq (i8x16.min_u (local.tee $d (i8x16.sub (local.get $v) (local.get $A))) (local.get $letters)) (local.get $d)))))
        (if (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 16))
          (then (local.set $v (v128.and (local.get $v)
            (i8x16.lt_u (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
              (i8x16.splat (i32.sub (local.get $end) (local.get $pos))))))))
        (local.set $a0 (i32x4.mul (v128.xor (local.get $a0) (local.get $v)) (local.get $k)))
        (local.set $a0 (v128.xor (local.get $a0) (i32x4.shr_u (local.get $a0) (i32.const 15))))
        ;; the next block goes to the next accumulator: a0 <- a1 <- a2 <- a3 <- a0
        (local.set $d (local.get $a0))
        (local.set $a0 (local.get $a1))
        (local.set $a1 (local.get $a2))
        (local.set $a2 (local.get $a3))
        (local.set $a3 (local.get $d))
        (local.set $pos (i32.add (local.get $pos) (i32.const 16)))
        (br $block)))
    ;; The accumulators folded into one in turn, then its lanes each mixed
    ;; in before the next: no two can cancel.
    (local.set $a0 (i32x4.mul (v128.xor (local.get $a0) (local.get $a1)) (local.get $k)))
    (local.set $a0 (v128.xor (local.get $a0) (i32x4.shr_u (local.get $a0) (i32.const 15))))
    (local.set $a0 (i32x4.mul (v128.xor (local.get $a0) (local.get $a2)) (local.get $k)))
    (local.set $a0 (v128.xor (local.get $a0) (i32x4.shr_u (local.get $a0) (i32.const 15))))
    (local.set $a0 (i32x4.mul (v128.xor (local.get $a0) (local.get $a3)) (local.get $k)))
    (local.set $a0 (v128.xor (local.get $a0) (i32x4.shr_u (local.get $a0) (i32.const 15))))
    (local.set $h (i32.xor (local.get $seed) (local.get $n)))
    (local.set $h (call $mix (i32.xor (local.get $h) (i32x4.extract_lane 0 (local.get $a0)))))
    (local.set $h (call $mix (i32.xor (local.get $h) (i32x4.extract_lane 1 (local.get $a0)))))
    (local.set $h (call $mix (i32.xor (local.get $h) (i32x4.extract_lane 2 (local.get $a0)))))
    (call $mix (i32.xor (local.get $h) (i32x4.extract_lane 3 (local.get $a0)))))

  ;; A multiply and a fold of the high bits down (murmur3's finalizer steps).
  (func $mix (param $h i32) (result i32)
    (local.set $h (i32.mul (local.get $h) (i32.const 0x85ebca6b)))
    (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))))

  ;; The content of a quoted-string that quotedEnd accepted, [pos, end),
  ;; unescaped into memory at `out`; returns where it ends there. Escaping
  ;; backslashes are found as in quotedEnd, 64 bytes at a time, and dropped 8
  ;; bytes at a time by a shuffle: the table at `table` holds, for each 8-bit
  ;; mask of bytes to keep, their indices in order. Up to 16 bytes past the
  ;; result may be written.
  (func (export "unescape") (param $pos i32) (param $end i32) (param $out i32) (param $table i32) (result i32)
    (local $backslashes i64) (local $codes i64) (local $carry i64) (local $keep i64)
    (local $byte i32) (local $backslash v128)
    (local.set $backslash (v128.load offset=192 (i32.const 0)))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $pos) (local.get $end)))
        (local.set $backslashes (i64.or
          (i64.or
            (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load (local.get $pos)) (local.get $backslash))))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=16 (local.get $pos)) (local.get $backslash)))) (i64.const 16)))
          (i64.or
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=32 (local.get $pos)) (local.get $backslash)))) (i64.const 32))
            (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=48 (local.get $pos)) (local.get $backslash)))) (i64.const 48)))))
        (local.set $keep (i64.const -1))
        (if (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 64))
          (then
            (local.set $keep (i64.sub
              (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $pos))))
              (i64.const 1)))
            (local.set $backslashes (i64.and (local.get $backslashes) (local.get $keep)))))
        ;; the escaping backslashes, as in quotedEnd
        (local.set $codes (i64.and (local.get $backslashes) (i64.xor (local.get $carry) (i64.const -1))))
        (local.set $codes (i64.xor
          (i64.sub
            (i64.or (i64.shl (local.get $codes) (i64.const 1)) (i64.const 0xaaaaaaaaaaaaaaaa))
            (local.get $codes))
          (i64.const 0xaaaaaaaaaaaaaaaa)))
        (local.set $codes (i64.and (local.get $codes) (local.get $backslashes)))
        (local.set $carry (i64.shr_u (local.get $codes) (i64.const 63)))
        (local.set $keep (i64.and (local.get $keep) (i64.xor (local.get $codes) (i64.const -1))))
        ;; eight bytes at a time (written out: a loop costs more than its body)
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 0))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=0 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 8))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=8 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 16))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=16 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 24))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=24 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 32))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=32 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 40))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=40 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 48))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=48 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $byte (i32.and (i32.wrap_i64 (i64.shr_u (local.get $keep) (i64.const 56))) (i32.const 0xff)))
        (v128.store64_lane 0 (local.get $out) (i8x16.swizzle
          (v128.load64_zero offset=56 (local.get $pos))
          (v128.load64_zero (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (i32.popcnt (local.get $byte))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 64)))
        (br $chunk)))
    (local.get $out))

  ;; A quoted-string's rest, from `pos` (just after the opening quote) up to
  ;; `end`: qdtext and quoted pairs (a backslash and any byte but a control
  ;; other than HTAB) up to the closing quote. Returns the address after the
  ;; closing quote, negated when there was a backslash before it; 0 when there
  ;; is a control byte (HTAB aside) or DEL first, or no closing quote.
  ;;
  ;; Which bytes a backslash escapes is worked out for 64 bytes at a time with
  ;; integer arithmetic on bit masks (the odd-length-run trick of simdjson), so
  ;; a run of backslashes costs no more than any other bytes.
  (func (export "quotedEnd") (param $pos i32) (param $end i32) (result i32)
    (local $backslashes i64) (local $quotes i64) (local $bad i64)
    (local $escaped i64) (local $carry i64) (local $codes i64) (local $valid i64)
    (local $stop i64) (local $earlier i32) (local $at i32) (local $last i32) (local $run i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $backslash v128) (local $quote v128) (local $control v128) (local $tab v128) (local $del v128)
    (local.set $backslash (v128.load offset=192 (i32.const 0)))
    (local.set $quote (v128.load offset=208 (i32.const 0)))
    (local.set $control (v128.load offset=224 (i32.const 0)))
    (local.set $tab (v128.load offset=240 (i32.const 0)))
    (local.set $del (v128.load offset=256 (i32.const 0)))
    (local.set $valid (i64.const -1))
    (loop $block
      (if (i32.ge_u (local.get $pos) (local.get $end)) (then (return (i32.const 0))))
      (local.set $v0 (v128.load (local.get $pos)))
      (local.set $v1 (v128.load offset=16 (local.get $pos)))
      (local.set $v2 (v128.load offset=32 (local.get $pos)))
      (local.set $v3 (v128.load offset=48 (local.get $pos)))
      ;; Most chunks of a long string hold no quote and no control byte (but
      ;; HTAB) or DEL: one test of the four blocks together says so. In such
      ;; a chunk only two things matter: whether it has a backslash at all
      ;; (asked until one is seen), and whether its last byte escapes the
      ;; next chunk's first: the parity of the run of backslashes it ends
      ;; with, when that run starts inside its last block (after a byte that
      ;; is not a backslash, so the run starts fresh). Other chunks, and a
      ;; last partial one, are read whole into masks.
      (if (i32.eqz (i32.or (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 64)) (v128.any_true (v128.or
            (v128.or
              (v128.or (i8x16.eq (local.get $v0) (local.get $quote)) (i8x16.eq (local.get $v1) (local.get $quote)))
              (v128.or (i8x16.eq (local.get $v2) (local.get $quote)) (i8x16.eq (local.get $v3) (local.get $quote))))
            (v128.or
              (v128.or
                (v128.or (i8x16.eq (i8x16.min_u (local.get $v0) (local.get $control)) (local.get $v0)) (i8x16.eq (i8x16.min_u (local.get $v1) (local.get $control)) (local.get $v1)))
                (v128.or (i8x16.eq (i8x16.min_u (local.get $v2) (local.get $control)) (local.get $v2)) (i8x16.eq (i8x16.min_u (local.get $v3) (local.get $control)) (local.get $v3))))
              (v128.or
                (v128.or (i8x16.eq (local.get $v0) (local.get $del)) (i8x16.eq (local.get $v1) (local.get $del)))
                (v128.or (i8x16.eq (local.get $v2) (local.get $del)) (i8x16.eq (local.get $v3) (local.get $del)))))))))
        (then
          (local.set $last (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $backslash))))
          (if (i32.eqz (local.get $earlier))
            (then (local.set $earlier (v128.any_true (v128.or
              (v128.or (i8x16.eq (local.get $v0) (local.get $backslash)) (i8x16.eq (local.get $v1) (local.get $backslash)))
              (v128.or (i8x16.eq (local.get $v2) (local.get $backslash)) (i8x16.eq (local.get $v3) (local.get $backslash))))))))
          ;; the run of backslashes the chunk ends with, if it is under 16 long
          (local.set $run (i32.clz (i32.xor (i32.shl (local.get $last) (i32.const 16)) (i32.const -1))))
          (if (i32.lt_u (local.get $run) (i32.const 16))
            (then
              (local.set $carry (i64.extend_i32_u (i32.and (local.get $run) (i32.const 1))))
              (local.set $pos (i32.add (local.get $pos) (i32.const 64)))
              (br $block)))))
      (local.set $backslashes (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $backslash)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $backslash)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $backslash)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $backslash)))) (i64.const 48)))))
      ;; Lanes past `end` are not text: a backslash or quote there is not one.
      (if (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 64))
        (then
          (local.set $valid (i64.sub
            (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $pos))))
            (i64.const 1)))
          (local.set $backslashes (i64.and (local.get $backslashes) (local.get $valid)))))
      ;; Escaped bytes: each backslash that is not itself escaped escapes the
      ;; next byte. `carry` says the first byte of this block is escaped.
      (local.set $codes (i64.and (local.get $backslashes) (i64.xor (local.get $carry) (i64.const -1))))
      (local.set $codes (i64.xor
        (i64.sub
          (i64.or (i64.shl (local.get $codes) (i64.const 1)) (i64.const 0xaaaaaaaaaaaaaaaa))
          (local.get $codes))
        (i64.const 0xaaaaaaaaaaaaaaaa)))
      (local.set $escaped (i64.xor (local.get $codes) (i64.or (local.get $backslashes) (local.get $carry))))
      (local.set $carry (i64.shr_u (i64.and (local.get $codes) (local.get $backslashes)) (i64.const 63)))
      ;; A chunk that may end the string, or is partial, or ends in a long run
      ;; of backslashes: into masks.
      (local.set $quotes (i64.and (local.get $valid) (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $quote)))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $quote)))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $quote)))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $quote)))) (i64.const 48))))))
      ;; controls but HTAB (bytes up to 0x1f), and DEL
      (local.set $bad (i64.and (local.get $valid) (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.andnot (i8x16.eq (i8x16.min_u (local.get $v0) (local.get $control)) (local.get $v0)) (i8x16.eq (local.get $v0) (local.get $tab))) (i8x16.eq (local.get $v0) (local.get $del))))) (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.andnot (i8x16.eq (i8x16.min_u (local.get $v1) (local.get $control)) (local.get $v1)) (i8x16.eq (local.get $v1) (local.get $tab))) (i8x16.eq (local.get $v1) (local.get $del))))) (i64.const 16))) (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.andnot (i8x16.eq (i8x16.min_u (local.get $v2) (local.get $control)) (local.get $v2)) (i8x16.eq (local.get $v2) (local.get $tab))) (i8x16.eq (local.get $v2) (local.get $del))))) (i64.const 32)) (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.andnot (i8x16.eq (i8x16.min_u (local.get $v3) (local.get $control)) (local.get $v3)) (i8x16.eq (local.get $v3) (local.get $tab))) (i8x16.eq (local.get $v3) (local.get $del))))) (i64.const 48))))))
      ;; The first unescaped quote ends the string, unless a bad byte comes first.
      (local.set $stop (i64.and (local.get $quotes) (i64.xor (local.get $escaped) (i64.const -1))))
      (if (i64.ne (i64.or (local.get $stop) (local.get $bad)) (i64.const 0))
        (then
          (if (i64.lt_u (i64.ctz (local.get $bad)) (i64.ctz (local.get $stop)))
            (then (return (i32.const 0))))
          (local.set $at (i32.add (local.get $pos) (i32.add (i32.wrap_i64 (i64.ctz (local.get $stop))) (i32.const 1))))
          ;; Was there a backslash before the quote, in this block or an earlier one?
          (if (i32.or (local.get $earlier) (i64.ne (i64.const 0) (i64.and (local.get $backslashes)
                (i64.sub (i64.and (local.get $stop) (i64.sub (i64.const 0) (local.get $stop))) (i64.const 1)))))
            (then (return (i32.sub (i32.const 0) (local.get $at)))))
          (return (local.get $at))))
      (local.set $earlier (i32.or (local.get $earlier) (i64.ne (local.get $backslashes) (i64.const 0))))
      (local.set $pos (i32.add (local.get $pos) (i32.const 64)))
      (br $block))
    (unreachable))
)
