/* Tempo, beats and loop-or-one-shot from the onset strength envelope.
 *
 * 1. Envelope. o(t) = max(0, odf(t) - mean of odf over +-8 frames): the local
 *    mean removes the floor of steady noise. om(t) = max(o(t-1..t+1)) tolerates
 *    +-23 ms of timing jitter.
 * 2. Pulse score. For every candidate period T (50-220 BPM, 0.5 % grid) and each
 *    segment of about 6 s, the best phase of a pulse train at T is found and its
 *    squared cosine with the envelope, (sum of om at the beats)^2 / (beats * sum o^2),
 *    is taken; this is precision x recall of the pulse (1 for a perfect match).
 *    Segment scores are pooled by energy, so slow tempo drift over long files does
 *    not matter. The expected value for a random phase is subtracted and the result
 *    rescaled to 0..1, which removes the bias towards fast tempos, and weighted by a
 *    log-normal prior (centre 120 BPM, sd 1.2 octaves).
 * 3. Beats. Dynamic programming (Ellis 2007, tightness 100) with the chosen period,
 *    trimmed of weak beats at both ends; beat times snap to the refined onsets
 *    (a->onsets) when one is close, and the BPM is the least-squares slope of beat
 *    times against beat number.
 * 4. Loop or one-shot, and the loop length constraint (below).
 *
 * LOOPS: THE LENGTH CONSTRAINT PICKS THE TEMPO. A sound of at least 1 s is tried as
 * a seamless loop of N = duration * fps frames cut to a whole number of beats k, for
 * k in 2^j and 3 * 2^j: its candidate tempos are exactly 60 * k / duration. For each
 * k the circular pulse score S(k) is the squared cosine of the best-phase pulse train
 * of k equal beats around the loop (wrapping at N) with the envelope, less its
 * random-phase expectation (as in 2). Among the candidates in 50-220 BPM:
 *  - the beat must be sounded: levels where at least 3 of every 4 beats carry an
 *    onset (>= 15 % of the strongest beat) are preferred; only when no level is
 *    sounded does any level compete (a quarter-note pulse at 67 BPM is not 134;
 *    not for tonal loops: see TONAL LOOPS);
 *  - metrical salience: M(k) = [S(k) + 0.5 S(2k) + S(k/2) + 0.5 S(k/4)] x prior,
 *    i.e. a beat level is supported by its subdivision (2k) and by the half-note
 *    and bar levels above it (k/2, k/4); the loop prior is log-normal, centre
 *    110 BPM, sd 0.8 octave; triple levels (3 * 2^j beats) count 0.7x, as triple
 *    meter is rarer. The weights and the prior were chosen on the generated
 *    development seeds 2-4 (docs/accuracy.md), never on the evaluation seed.
 * DRUM ROLES (sm__tempo_analyze_ex only; deliberate, tested). The salience above
 * cannot tell a backbeat at T from a half-time pattern (kick on 1, snare on 3) at
 * 2T: kick and snare alternate alike. For a sound without a key (drums; see
 * TONAL LOOPS for the others) the band envelopes (onset.h; frame 0 as the loop
 * plays it, sm__onset_wrap_rise) decide among half, the same and twice the beats
 * k of the salience winner (those in 50-220 BPM, at least 4 frames a beat), by
 *     h8 - h16 - h32 + max(bb, ht) (+ 0.5 four-on-the-floor, + 0.05 for the
 *     salience winner),
 * where h8 is the high band (hats, > 5 kHz) on the half-beat (straight, or swung
 * to 5/8 of the beat), h16 on the quarter-beats (1/4, 3/4; or swung, each late
 * by a sixteenth of the beat: 5/16, 13/16), h32 on the eighth-
 * beats (1/8, 3/8, 5/8, 7/8; only with >= 16 frames a beat, below 161 BPM:
 * an eighth of a beat must span 2 frames, beyond the +-1 frame spread of the
 * envelope, or the hats on the beat and half-beat leak into it), each the mean over
 * the loop's beats at the level's best phase, relative to the band's peak;
 * h16 and h32 weigh 2.5 (below). bb and ht read the SNARE DETECTOR (onset.h:
 * the amplitude rise over 1-5 kHz, weighted by its share against the kick's
 * rise below 130 Hz) on the beats by their place
 * in a 4/4 bar that starts on the loop's first beat (levels with 4 | k):
 * bb = (min(m2, m4) - max(m1, m3)) / max(m) is a backbeat (snare on 2 and 4),
 * ht = (m3 - max(m1, m2, m4)) / max(m) half-time (snare on 3). It replaced a
 * log-rise band over 150 Hz..5 kHz, which rose as much on a kick (its click,
 * a driven kick's harmonics, an 808's sweep) as on a snare, and the KICK
 * SPILL rule that patched it (the snare on 3 weighed only against 2 and 4
 * when the kick is on 1 and not on 3), now removed. With the snare found
 * cleanly, a half-time pattern at T and a backbeat at T / 2 carry the same
 * snare evidence (and so do a backbeat at T and a half-time at 2T): the hats
 * decide, and h16 and h32 weigh 2.5 against h8 (1 before, when the kick's
 * spill tipped those ties). Development seeds 2-7, 11-24 and 61-100 (60
 * seeds, 3,600 drum loops, tempo-only sets): 383 -> 319 wrong files, drum
 * loops 205 -> 144 (read at half: half-time patterns 41 -> 29, breakbeats
 * 42 -> 23, shuffles 32 -> 14; read at double: trap 28 -> 10, breakbeats
 * 9 -> 15, four-on-the-floor 11 -> 14). Plateaus, in drum loops wrong,
 * each added in this order: the hat weight 1.5 / 2 / 2.5 / 3 gave
 * 184 / 164 / 157 / 160; then the four-on-the-floor weight 0.5 / 1 / 1.5
 * gave 157 / 151 / 158; then the snare veto's threshold 0.3 / 0.5 / 0.7
 * gave 150 / 143 / 143. A penalty for the snare on the half-beats (the
 * shuffle at half tempo) helped before the veto and was redundant after
 * it (143 with, 144 without): removed. The detector's kick weighting
 * matters (171 drum loops with the plain 1-5 kHz rise, 157 with it, at the
 * hat weight 2.5).
 * Four-on-the-floor:
 * the low band (kick, < 150 Hz) reaches 30 % of its peak on >= 85 % of the beats
 * (one beat in 8 may be masked: a fill, or the loop's seam at frame 0)
 * and its mean on the half-beats stays under 10 % of the peak; it adds 1.0
 * (0.5 before the hat weight rose to 2.5, which the sixteenth hats of a
 * house loop then outweighed).
 * CONVENTIONS: (1) the snare falls on 2 and 4 or on 3: a level at which it falls
 * on neither (on 1 every other bar, or on every beat) is not the beat. SNARE
 * VETO: when a candidate finds the snare clearly (max(bb, ht) >= 0.5), a
 * candidate of whole bars (4 | k) with max(bb, ht) <= 0 is left out (unless
 * no candidate is left), whatever its hats say; (2) the
 * hats play eighth notes, or sixteenths, never 32nds: among what (1) leaves, the
 * level whose half-beats the hats sound and whose finer subdivisions they leave
 * empty wins, so a half-time pattern with eighth hats is reported at the full
 * tempo the hats imply (140, not 70) and a backbeat with eighth hats at its own
 * rate; sixteenth hats with the snare on 3 stay at the snare-on-3 tempo (75, not
 * 150, where the snare would fall once every 8 beats). QUARTER-NOTE HATS: as the
 * hats play eighths or sixteenths, a level whose half-beats carry under 20 % of
 * the hats on its beats (h8 / h0 < 0.2, h0 the high band on the beats), and
 * under half the share the level half as fast has, is left out (unless no
 * candidate is left): its hats would be quarter notes, and the slower level,
 * whose half-beats they sound, is the beat. A breakbeat at 93 BPM (snare on 2
 * and 4) whose kick spills into the mid band otherwise read as a half-time
 * pattern at 186 with the hats on every beat; a fast level whose accented
 * hats make its own h8 / h0 low (0.17-0.3 at 190-200 BPM) keeps it, as the
 * level half as fast does not have twice the share (development seeds 2-7
 * and 11-16: 111 -> 104 wrong; 0.15-0.25 and 0.5 lie on a plateau). SWUNG
 * SIXTEENTHS count as sixteenths, as swung eighths count as eighths: a shuffle
 * (kick on 1 and 3, snare on 2 and 4, hats on the beat and swung to 2/3 of
 * it) read at half tempo has its swung hats at 1/3 of that level's beat,
 * which the straight quarter-beats missed, so the half tempo (a kick on every
 * beat, hats only on the half-beats) won; 104 -> 97 wrong on the same seeds;
 * (3) a kick on every beat
 * and nowhere between (four-on-the-floor) marks the beat, so a house pattern
 * with sixteenth hats at 67 is 67, not a half-time 134. Without any high-band
 * onset in the loop the salience winner stays. Alternative considered and
 * rejected: "hats are always eighths" (the previous rule) reads every sixteenth-
 * hat pattern at double speed. Weights chosen on development seeds 2-4 only (a
 * grid over the five weights; the chosen point is inside a plateau).
 * TONAL LOOPS (a->has_key; the key is analysed before tempo). Plucks, strums and
 * consonants put onsets in the high band that are not hats, so the drum-role
 * rule is not used. A MELODY RESTS ON BEATS: a drum loop's beat is sounded,
 * but a melody or a comping figure leaves beats empty (a 3-3-2 figure sounds
 * 2 of 4; a melody in quarters and eighths about 3 of 4, on the edge of the
 * rule), so the sounded-beat preference would take the half-note level, which
 * the chords' strikes on 1 and 3 always sound; for a tonal loop every level
 * competes on its salience alone (development seeds 2-7, 11-24 and 61-80,
 * 1920 tonal files: 64 -> 54 wrong, half 29 -> 12, double 21 -> 29; a looser
 * share than 3 of 4 is no plateau: 0.7 / 0.6 / 0.5 / 0.4 of the beats give
 * 64 / 73 / 78 / 74, as the half-note level then passes and the beat not). The level stays the salience winner unless the chord
 * changes say it is twice as fast: with ONE CHORD CHANGE PER 4/4 BAR, 2k wins
 * when its bar lines carry chroma novelty against its half-bars (at the best
 * lag within 15 % of a bar, at least 0.05) by at least 1.5 times (CHORD_RATIO,
 * as for the moves below) what the bar lines of k do against theirs. Chords
 * struck on every beat of a half-note level (keys on 1 and 3) thus give the
 * full tempo. A melody moves the chroma at its half-bars as well (its notes
 * on 3 are chord tones too), so the half-bars of k, the bar lines of 2k,
 * carry some change, and without the margin (2k winning whenever its
 * contrast was the larger) melodies at 70-105 BPM were read at double
 * (development seeds 2-7, 11-24 and 61-80, 1920 tonal files: 54 -> 52
 * wrong; seeds 81-100, 960 files not used to choose: 35 -> 32; a margin of
 * 1 / 1.25 / 1.5 / 2 / 3 gives 89 / 84 / 84 / 85 / 85 on the two together).
 * Only the faster level is considered: melodies move the chroma at
 * half-bars as much as chords do at bar lines, which made the slower level win
 * wrongly on the development seeds. The one exception, HARMONIC RHYTHM: a
 * level of k beats (k / 4 bars) whose chords change on every other bar line
 * only is twice too fast, so k / 2 wins when its bar lines stand out from its
 * half-bars (chord contrast as above, >= 0.05) by at least 1.5 times what the
 * bar lines of k do from theirs. A melody at its own level moves the chroma at
 * its half-bars, but its chords still change on every bar line, so the slower
 * level shows no such contrast. Only with at least 4 bars at the slower level
 * (k >= 32): 2 bar lines against 2 half-bars do not tell an alternation from
 * chance (it halved 4-bar melodies wrongly on the development seeds).
 * A level so halved is every other beat of the salience winner, and its bar
 * lines, where the chords change, are found from the loop's start (the
 * contrast's lag is 0-15 % of a bar): it starts on a beat when the salience
 * winner does, even when its strongest strikes are off-beats (syncopated
 * comping, anticipated chords), whose own best phase then lies half a beat
 * off. Without this the halved level failed the start check below and the
 * free pulse gave the eighth-note level (progressions at 73-83 BPM read at
 * double; development seeds 2-7 and 11-16: 90 -> 84 wrong).
 * TRIPLE TO DUPLE: a triple level (k = 3 * 2^j beats, e.g. strikes in
 * quarter-note triplets, the only level with an onset on nearly every beat)
 * gives way to the duple level of 2k / 3 beats when that level's bar lines
 * carry the chord changes (contrast >= 0.05) by at least 1.5 times what the
 * triple level's own 4-beat groups do: one chord a 4/4 bar says where the
 * bars are. CHORD WITNESS: the loop check below requires a clear free pulse
 * to be one of the loop's metrical levels; for a tonal loop whose chosen
 * level's bar lines carry the chord changes (contrast >= 0.1) that
 * requirement is waived, as the chords witness the level independently of
 * the onsets (a dotted or 3-3-2 figure puts the free pulse at 4:3 or 5:4 of
 * the beat). A click track has no chord changes and still needs its free
 * pulse. Development seeds 2-7 and 11-16: 84 -> 79 wrong (3 triple levels,
 * 2 vetoed progressions; a plateau for the ratio 1-3 and the witness
 * contrast 0.05-0.2).
 * The loop is accepted when its best phase is within 12 % of a beat of the start
 * (a loop starts on a beat) — or, for the salience winner itself (not a level
 * the drum-role or chord rules moved to, the harmonic-rhythm halving excepted:
 * see above) with S(k) >= 0.08, when a pulse that
 * starts within 12 % of a beat of the start sums to 85 % of the best phase's:
 * syncopated parts (up-strums, off-beat stabs) make the off-beat train about as
 * strong as the on-beat one, and the loop's start, cut at a beat, decides —, it sounds to its end (the last onset within 2 beats,
 * half a 4/4 bar, of the end, or the last 5 % of the RMS envelope within 20 dB of
 * its peak), at least 2 of its beats and 3 onsets in all are sounded, S(k) >= 0.05,
 * and a clear free pulse (score >= 0.25) agrees: the candidate is within 2 % plus
 * the free estimate's precision (2 frames over its segment, and no better than one
 * frame per beat) of the free tempo times
 * 1/4, 1/3, 1/2, 2/3, 1, 3/2, 2, 3 or 4, or THREE AGAINST FOUR: 3/4 of it when
 * k is a multiple of 4, or 4/3 of it when k is a multiple of 3 (the free beats
 * then divide the loop into a whole number of them, 3 to every 4 of the
 * level: a 3-against-4 figure, the bar cut in three, in a one-bar loop; that
 * level is one of the loop's own candidates, which the salience has already
 * weighed, so it does not contradict the choice), when the level is
 * sounded on at least 3 of every 4 beats (a 1.2 s brass one-shot with 2
 * attacks otherwise became a 193 BPM loop and lost its note on seed 1).
 * Without it the one-bar
 * drum loops whose free pulse locked to the bar's thirds had no tempo
 * (development seeds 2-7 and 11-24: 125 -> 117 wrong, 7 loops without a
 * tempo and one read at 3/4 fixed, no file lost; held out 1, 8-10 unchanged
 * at 17. The sounded-beat guard, added after, gives back 2 of them, a loop
 * with only 2 of its 4 beats sounded and one at 3/4: 114 -> 116 wrong
 * together with the kick-spill rule; held out unchanged). Then bpm = 60 * k / duration exactly, the
 * beats are tracked at that period, and the confidence is S(k) times the share of
 * sounded beats (full from 4). Otherwise the free estimate and the rules below
 * apply (the accent rule is one of them; for loops the salience rule replaces it).
 *
 * CHORD CHANGES (sm__tempo_analyze_ex only). A sound of at least 2 s that the onset
 * envelope gives no tempo (pads, strings, sung or bowed lines: their attacks are too
 * slow to register) is tried as a loop of kc chord changes, kc in 1, 2, 4, 8, 16,
 * on the chroma novelty (onset.h; frame 0 is scored as the loop plays it, after the
 * loop's own end). Convention: ONE CHORD CHANGE PER 4/4 BAR, so the tempo is
 * 60 * 4 * kc / duration. A kc is eligible when that is in 50-220 BPM, a change
 * period spans at least 2 novelty windows, its circular pulse score on the novelty
 * (as S(k) above) is >= 0.02, and at least 3 of every 4 (and 2 in all) of its change
 * positions reach 30 % of the strongest of them and a novelty of 0.02. The phase is
 * free (slow attacks make the novelty peak late). Among eligible kc the largest
 * score times the loop prior wins; the sound must sound to its end (last 5 % of the
 * RMS envelope within 20 dB of its peak). Then it is a loop, beats are laid every
 * 60 / bpm s from the change phase, and the confidence is the score times the share
 * of sounded changes (full from 4). Otherwise it goes on to MELODY LEVEL.
 * TWO CHANGES: a loop of only 2 chord changes is the weakest chord evidence
 * (the pulse of two events is checked once, around the loop), and a melody
 * phrased in two halves (a 4-bar line in two 2-bar phrases, each circling its
 * own notes) moves the bar-long chroma where its phrases meet just as two
 * chords would, which read 4-bar melodies at half tempo on the development
 * seeds. So for a tonal sound whose chord changes give fewer than 3 changes,
 * MELODY LEVEL (below, with its phrase guard) is tried first; the chord
 * changes stand when it gives no tempo (a two-chord pad has no phrase of note
 * changes). Development seeds 2-7 and 11-16: 97 -> 90 wrong (7 sung or bowed
 * melodies; no file lost).
 * A SOUND WITHOUT A KEY HAS NO TWO-CHORD LOOP: its chroma drifts (noise
 * risers, sweeps, detuned basses), and two novelty peaks half a sound apart
 * are found in nearly any drifting sound, so without a key the chord pass
 * needs at least 4 changes (CHORD_KEYLESS_MIN). On the development one-shot
 * sets of seeds 61-70 (5,700 one-shots and notes) 34 of the 45 one-shots
 * that had a tempo had it from two chord changes (26 fx, a bass, a clap, a
 * synth, ...; 31 of them without a key); on the tonal files of seeds 11-24
 * (672) one keyless file took its tempo from two changes.
 *
 * MELODY LEVEL (sm__tempo_analyze_ex only). A tonal sound (a->has_key) that
 * neither the onset envelope nor the chord changes give a tempo (a bowed, blown
 * or sung melody: its notes swell in without an attack, and its notes move the
 * bar-long chroma as much as its chords do) is a loop when it carries a melody
 * PHRASE: at least 12 note changes (local maxima >= 0.3, >= 8 frames apart, of
 * the note-change envelope, onset.h note_nov: the rise of the pitch-class
 * profile over 35 ms windows) and its last 5 % within 12 dB of its peak (a
 * melody loop ends as loud as it plays). A single note's decaying tail shifts
 * the pitch-class profile too (up to 9 such "changes" and tails of -16 dB or
 * lower on the development one-shots; melodies 14 or more and -7 dB or
 * higher), and a one-shot must not get a made-up tempo. Its beats are then
 * chosen among ALL its length-constrained candidates k (2^j and 3 * 2^j beats,
 * 50-220 BPM) on all the evidence together: the metrical salience (as in
 * LOOPS: S(k) + 0.5 S(2k) + S(k/2) + 0.5 S(k/4), circular pulse scores at the
 * best phase) summed over the onset, note-change and chroma-novelty envelopes
 * (frame 0 as the loop plays it), times the loop prior and the triple weight,
 * plus 0.8 x prior x the chord contrast of k's bar lines (bar_contrast: one
 * chord per 4/4 bar, so a candidate twice too fast has the chords on every
 * other bar line only, and one twice too slow has them on its half-bars).
 * A melody's rhythm is in when its pitch changes, so its note changes give the
 * pulse its attacks do not; the beats are laid from the loop's start (a loop
 * starts on a beat: slow swells make the note changes lag it). This replaced
 * a second pass of the whole onset analysis on the note-change envelope (with
 * a looser phase and score check), which left melodies whose note changes lag
 * the beat by more than a quarter of it without a tempo and chose by the
 * note changes alone. Development seeds 2-7, 11-24 and 61-80 (tempo-only sets,
 * tonal files): 112 -> 64 wrong (no tempo 34 -> 8; half 43 -> 29); the weight
 * 0.4 / 0.8 / 1.2 / 1.6 gives 68 / 64 / 66 / 70 (0: 71); no labelled one-shot
 * of seeds 2-7 (full sets) gained a tempo. Chord changes come first because a
 * progression's note-change envelope also carries its voicing's inner motion.

 * HALF/DOUBLE RULE (deliberate; tested in tests/unit/analysis/test_tempo.c):
 *  - A uniform pulse is reported at its own rate. The pulse score of a level that
 *    takes every other onset of a uniform pulse is halved (it explains half of the
 *    onsets), and so is that of a level twice as fast (half of its beats fall in
 *    silence); the prior (at most 1.7x between octaves in range) cannot outweigh that.
 *    So a click every 0.3 s is 200 BPM and a click every second is 60 BPM.
 *  - Near-ties (accented patterns that two levels explain about as well) go to the
 *    level closer to 120 BPM through the prior.
 *  - Accent rule: when the winner is faster than 140 BPM and the onsets on every
 *    other beat are at least 1.6x stronger than those between them, the accented
 *    pulse at half the rate is reported (a fast strong/weak alternation is a
 *    slower beat with off-beats; a fast uniform pulse stays fast).
 *  - Loops: the level is chosen by the loop rule above (salience, then drum roles
 *    or, for tonal loops, chord changes), not by the accent rule.
 *  - bpm_alternatives: half and double of the reported tempo, when in 50-220 BPM.
 *
 * HAS TEMPO: frames quieter than -70 dBFS are ignored; confidence is the pulse
 * score times the share of tracked beats that carry an onset (full from 4); a
 * tempo is reported when confidence >= 0.25 with >= 4 such beats, or, for a
 * weaker pulse (>= 0.08), when the sound has the shape of a loop (a whole number
 * of beats within 1 %, starting on a beat, sounding to its end); and, when refined
 * onsets are known, at least 3 beats must fall on one.
 *
 * LOOP OR ONE-SHOT: a loop is one accepted by the loop rule above or, failing that,
 * one that passes these checks on the free estimate: periodic (has_tempo), at least
 * 1 s long, has at least 3 onsets, keeps sounding to its end (the last onset is
 * within 1.5 beats of the end, or the last 5 % of the RMS envelope is within 20 dB
 * of its peak), and is a whole number of beats long: 60 * beats / duration, for
 * beats in 3 * 2^k or 4 * 2^k, lies within 2 % of the measured tempo (within 0.75 %
 * unless the beat grid also starts at a beat). The reported BPM of a loop is then
 * that exact value. Everything else is not a loop; has_tempo false means bpm NaN and
 * no beats, while bpm_confidence still says how periodic the sound was.
 * loop_confidence is the confidence in the decision made (0.5 = a guess, 1 =
 * certain).
 */
#include "analysis/tempo.h"

#include "analysis/onset.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <samplemind/alloc.h>

#define BPM_MIN 50.0
#define BPM_MAX 220.0
#define GRID_STEP 1.005
#define PRIOR_CENTRE 120.0
#define PRIOR_SD_OCT 1.2
#define LOCAL_MEAN_FRAMES 8
#define SEG_FRAMES 256
#define MAX_SEG_BEATS 48       /* > 1.5 * SEG_FRAMES / shortest period + 2 */
#define ACCENT_MIN_BPM 140.0
#define ACCENT_RATIO 1.6
#define TIGHTNESS 100.0
#define SUPPORT_FRAC 0.15      /* a beat with an onset of >= 15 % of the strongest */
#define HAS_TEMPO_CONF 0.25
#define LOOP_SHAPED_CONF 0.08
#define MIN_SUPPORTED 4
#define SNAP_BEFORE_S 0.030    /* onsets lie at or after the odf peak frame */
#define SNAP_AFTER_S 0.075
#define FIT_TOL 0.02
#define FIT_TOL_UNALIGNED 0.0075
#define LOOP_MIN_S 1.0
#define QUIET_RMS 3.1623e-4f   /* -70 dBFS, as onset picking */
#define MIN_SNAPPED 3
#define ALIGN_FRAC 0.12
#define ALIGN_NEAR 0.85
/* The loop prior and level weights (see the top of this file). */
#define LOOP_PRIOR_CENTRE 110.0
#define LOOP_PRIOR_SD_OCT 0.8
#define LOOP_W_SUB 0.5
#define LOOP_W_HALF 1.0
#define LOOP_W_BAR 0.5
#define LOOP_TRIPLE 0.7
#define LOOP_MIN_SCORE 0.05
/* The drum-role rule (see the top of this file). */
#define ROLE_W_H16 2.5
#define ROLE_W_H32 2.5
#define ROLE_W_L8 0.0
#define ROLE_W_SNARE 1.0
#define ROLE_SNARE_CLEAR 0.5 /* a snare contrast that vetoes levels without one */
#define ROLE_W_FOUR 1.0
#define ROLE_FOUR_BEATS 0.85
#define ROLE_FOUR_OFF 0.1
#define ROLE_KICK_FRAC 0.3
#define ROLE_KEEP 0.05
#define ROLE_H32_FRAMES 16.0 /* h32 only when 1/8 beat >= 2 frames */
#define ROLE_QUARTER_HATS 0.2  /* hats on the half-beats / on the beats below this ... */
#define ROLE_QUARTER_REL 0.5   /* ... and below this share of the slower level's */
/* Chord changes (see the top of this file). */
#define CHORD_MIN_S 2.0
#define CHORD_BEATS 4
#define CHORD_MIN_NOV 0.02
#define CHORD_EVENT_FRAC 0.3
#define CHORD_MIN_SCORE 0.02
#define CHORD_CONTRAST_MIN 0.05
#define CHORD_RATIO 1.5
#define CHORD_HALVE_BARS 4
#define CHORD_MIN_CHANGES 3 /* fewer: a melody tries its note changes first */
#define CHORD_WITNESS 0.1
#define CHORD_KEYLESS_MIN 4 /* fewest changes of a sound without a key */   /* bar-line contrast that witnesses a loop level */
/* Note changes (see the top of this file). */
#define NOTE_CHANGE_MIN 0.3f
#define NOTE_CHANGE_GAP 8
#define NOTE_MIN_CHANGES 12
#define NOTE_TAIL_DB (-12.0)
#define MELODY_W_BARS 0.8 /* chord contrast of the bar lines, against the salience */

static int analyze(const float *odf, size_t n, const struct sm__onset *on, sm_analysis *a);

struct seg {
    size_t s0, s1;
    double e2; /* sum of o^2 */
    double sm; /* sum of om */
};

struct work {
    size_t n;
    float *x;  /* the envelope, cleaned of non-finite and negative values */
    float *o;
    float *om;
    float *cum;
    int32_t *back;
    size_t *beats; /* frame indices */
    size_t n_beats;
    struct seg *segs;
    size_t nseg;
    double e2;
    double loop_e2; /* sum of o^2 and of om over the loop's frames */
    double loop_sm;
};

static double fps(void)
{
    return SM_AN_FPS;
}

static double prior(double bpm)
{
    double z = log2(bpm / PRIOR_CENTRE) / PRIOR_SD_OCT;
    return exp(-0.5 * z * z);
}

/* Best-phase pulse sums of one segment for period T. Writes the largest
 * (sum)^2 / beats into *best and that phase into *phase. */
static void seg_best(const float *om, const struct seg *s, double T, double *best,
                     size_t *phase)
{
    size_t offs[MAX_SEG_BEATS];
    size_t nb_max = 0;
    size_t len = s->s1 - s->s0;
    while (nb_max < MAX_SEG_BEATS) {
        size_t off = (size_t)lround((double)nb_max * T);
        if (off >= len)
            break;
        offs[nb_max++] = off;
    }
    size_t nph = (size_t)ceil(T);
    const float *x = om + s->s0;
    *best = 0.0;
    *phase = 0;
    for (size_t ph = 0; ph < nph && ph < len; ph++) {
        double sum = 0.0;
        size_t k = 0;
        while (k < nb_max && ph + offs[k] < len) {
            sum += (double)x[ph + offs[k]];
            k++;
        }
        double v = sum * sum / (double)k;
        if (v > *best) {
            *best = v;
            *phase = ph;
        }
    }
}

/* Normalised pulse score of period T (frames) in 0..1. */
static double pulse_score(const struct work *w, double T)
{
    double num = 0.0;
    double mean = 0.0;
    for (size_t i = 0; i < w->nseg; i++) {
        const struct seg *s = &w->segs[i];
        double best;
        size_t ph;
        seg_best(w->om, s, T, &best, &ph);
        num += best;
        mean += s->sm * s->sm / ((double)(s->s1 - s->s0) * T);
    }
    double f = num / w->e2;
    double fm = mean / w->e2;
    f = f < 1.0 ? f : 1.0;
    if (!(fm < 1.0))
        return 0.0;
    double r = (f - fm) / (1.0 - fm);
    return r > 0.0 ? r : 0.0;
}

/* The onset strength at beat frame b, tolerating one frame either side. */
static double strength(const float *o, size_t n, size_t b)
{
    float v = o[b];
    if (b > 0 && o[b - 1] > v)
        v = o[b - 1];
    if (b + 1 < n && o[b + 1] > v)
        v = o[b + 1];
    return (double)v;
}

/* Sum of the raw envelope strength at the beats of period T from phase ph. */
static double phase_sum(const struct work *w, const struct seg *s, double T, size_t ph)
{
    double sum = 0.0;
    for (size_t k = 0;; k++) {
        size_t at = s->s0 + ph + (size_t)lround((double)k * T);
        if (at >= s->s1)
            break;
        sum += strength(w->x, w->n, at);
    }
    return sum;
}

/* Ratio of onset strength on every other beat to that between them: the best
 * phase of the pulse of period 2T against the best phase within +-2 frames of
 * half a period later. Measured on the raw envelope (the local-mean-removed one
 * exaggerates differences). */
static double accent_ratio(const struct work *w, double T)
{
    double on = 0.0;
    double off = 0.0;
    double T2 = 2.0 * T;
    long shift = lround(T);
    long per = lround(T2);
    for (size_t i = 0; i < w->nseg; i++) {
        const struct seg *s = &w->segs[i];
        double best;
        size_t ph;
        seg_best(w->om, s, T2, &best, &ph);
        double on_s = phase_sum(w, s, T2, ph);
        double off_s = 0.0;
        for (long d = -2; d <= 2; d++) {
            long p = (long)ph + shift + d;
            if (p >= per)
                p -= per;
            if (p < 0 || (size_t)p >= s->s1 - s->s0)
                continue;
            double v = phase_sum(w, s, T2, (size_t)p);
            off_s = v > off_s ? v : off_s;
        }
        /* Compare per beat: the two phases may hold different beat counts. */
        size_t len = s->s1 - s->s0;
        double n_on = ceil(((double)len - (double)ph) / T2);
        on += n_on > 0.0 ? on_s / n_on : 0.0;
        size_t off_ph = (size_t)(((long)ph + shift) % per);
        double n_off = ceil(((double)len - (double)off_ph) / T2);
        off += n_off > 0.0 ? off_s / n_off : 0.0;
    }
    if (!(off > 0.0))
        return on > 0.0 ? 1e9 : 1.0;
    return on / off;
}

/* Median of x[0..n) (reorders x); n > 0, no NaN. Wirth's selection. */
static float median_inplace(float *x, size_t n)
{
    long k = (long)(n / 2);
    long l = 0;
    long m = (long)n - 1;
    while (l < m) {
        float pivot = x[k];
        long i = l;
        long j = m;
        do {
            while (x[i] < pivot)
                i++;
            while (pivot < x[j])
                j--;
            if (i <= j) {
                float t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < k)
            l = i;
        if (k < i)
            m = j;
    }
    return x[k];
}

/* Ellis's dynamic programming beat tracker on the local score w->o / sd.
 * Fills w->beats (ascending frame indices). Returns 0 or -1 (out of memory). */
static int track_beats(struct work *w, double T)
{
    size_t n = w->n;
    const float *o = w->o;
    double sd = sqrt(w->e2 / (double)n);
    float inv = (float)(1.0 / sd);
    size_t dlo = (size_t)lround(T / 2.0);
    size_t dhi = (size_t)lround(2.0 * T);
    if (dlo < 1)
        dlo = 1;
    float *pen = sm_malloc((dhi + 1) * sizeof(*pen));
    if (!pen)
        return -1;
    for (size_t d = dlo; d <= dhi; d++) {
        double l = log((double)d / T);
        pen[d] = (float)(-TIGHTNESS * l * l);
    }
    float lsmax = 0.0f;
    for (size_t t = 0; t < n; t++)
        lsmax = o[t] > lsmax ? o[t] : lsmax;
    lsmax *= inv;
    int started = 0;
    for (size_t t = 0; t < n; t++) {
        float ls = o[t] * inv;
        float best = -INFINITY;
        int32_t arg = -1;
        if (t >= dlo) {
            size_t dmax = t < dhi ? t : dhi;
            for (size_t d = dlo; d <= dmax; d++) {
                float v = w->cum[t - d] + pen[d];
                if (v > best) {
                    best = v;
                    arg = (int32_t)(t - d);
                }
            }
        }
        /* A chain whose best predecessor scores below zero is worse than none:
         * start afresh (this lets the first beat sit on the first onset). */
        if (arg < 0 || best < 0.0f) {
            w->cum[t] = ls;
            w->back[t] = -1;
            started = started || !(ls < 0.01f * lsmax);
        } else if (!started && ls < 0.01f * lsmax) {
            w->cum[t] = ls + best;
            w->back[t] = -1;
        } else {
            w->cum[t] = ls + best;
            w->back[t] = arg;
            started = 1;
        }
    }
    sm_free(pen);

    /* Last beat: the best cumulative score within the final period (Ellis);
     * weak beats after the music are trimmed below. */
    size_t span = (size_t)ceil(T);
    size_t last = n - 1;
    for (size_t t = n > span ? n - span : 0; t < n; t++) {
        if (w->cum[t] > w->cum[last])
            last = t;
    }
    /* Backtrace (into the end of the array, then moved to the front). */
    size_t cap = n;
    size_t nb = 0;
    long t = (long)last;
    while (t >= 0 && nb < cap) {
        w->beats[cap - 1 - nb] = (size_t)t;
        nb++;
        t = w->back[t];
    }
    memmove(w->beats, w->beats + cap - nb, nb * sizeof(*w->beats));
    /* Trim weak beats at both ends (below half the RMS of the beat strengths). */
    double s2 = 0.0;
    for (size_t i = 0; i < nb; i++) {
        double v = strength(o, n, w->beats[i]);
        s2 += v * v;
    }
    double thr = nb ? 0.5 * sqrt(s2 / (double)nb) : 0.0;
    size_t first = 0;
    size_t end = nb;
    while (first < end && !(strength(o, n, w->beats[first]) > thr))
        first++;
    while (end > first && !(strength(o, n, w->beats[end - 1]) > thr))
        end--;
    memmove(w->beats, w->beats + first, (end - first) * sizeof(*w->beats));
    w->n_beats = end - first;
    return 0;
}

static void work_release(struct work *w)
{
    sm_free(w->x);
    sm_free(w->o);
    sm_free(w->om);
    sm_free(w->cum);
    sm_free(w->back);
    sm_free(w->beats);
    sm_free(w->segs);
    memset(w, 0, sizeof(*w));
}

/* out[t] = max(0, x[t] - the mean of x over t +- LOCAL_MEAN_FRAMES): the rise
 * above the local floor (a running window sum). */
static void above_local_mean(const float *x, size_t n, float *out)
{
    double win = 0.0;
    size_t lo = 0;
    size_t hi = 0;
    for (size_t t = 0; t < n; t++) {
        size_t want_lo = t > LOCAL_MEAN_FRAMES ? t - LOCAL_MEAN_FRAMES : 0;
        size_t want_hi = t + LOCAL_MEAN_FRAMES + 1 < n ? t + LOCAL_MEAN_FRAMES + 1 : n;
        while (hi < want_hi)
            win += (double)x[hi++];
        while (lo < want_lo)
            win -= (double)x[lo++];
        float d = x[t] - (float)(win / (double)(hi - lo));
        out[t] = d > 0.0f ? d : 0.0f;
    }
}

/* o, om, segments and energies. Returns 0, or -1 when out of memory. */
static int work_prepare(struct work *w, const float *odf, size_t n, const sm_analysis *a)
{
    w->n = n;
    w->x = sm_malloc(n * sizeof(*w->x));
    w->o = sm_malloc(n * sizeof(*w->o));
    w->om = sm_malloc(n * sizeof(*w->om));
    w->cum = sm_malloc(n * sizeof(*w->cum));
    w->back = sm_malloc(n * sizeof(*w->back));
    w->beats = sm_malloc(n * sizeof(*w->beats));
    w->nseg = n / SEG_FRAMES;
    if (w->nseg == 0 || n - w->nseg * SEG_FRAMES >= SEG_FRAMES / 2)
        w->nseg++;
    w->segs = sm_malloc(w->nseg * sizeof(*w->segs));
    if (!w->x || !w->o || !w->om || !w->cum || !w->back || !w->beats || !w->segs)
        return -1;
    /* Clean input (non-finite and negative values count as 0), then remove the
     * local mean with a running sum. */
    for (size_t t = 0; t < n; t++) {
        float v = odf[t];
        w->x[t] = isfinite(v) && v > 0.0f ? (v < 1e6f ? v : 1e6f) : 0.0f;
    }
    /* Very quiet frames (below -70 dBFS RMS here and in the next three frames,
     * which the analysis window already sees) carry no onsets. */
    if (a->rms_env && a->n_rms_env == n) {
        const float *r = a->rms_env;
        for (size_t t = 0; t < n; t++) {
            size_t lo = t > 0 ? t - 1 : 0;
            size_t hi = t + 4 < n ? t + 4 : n;
            float m = 0.0f;
            for (size_t k = lo; k < hi; k++)
                m = r[k] > m ? r[k] : m;
            if (!(m >= QUIET_RMS))
                w->x[t] = 0.0f;
        }
    }
    /* Frame 0 rises from assumed silence (see sm__onset_first). */
    w->x[0] = sm__onset_first(w->x, n);
    const float *x = w->x;
    above_local_mean(x, n, w->o);
    for (size_t t = 0; t < n; t++) {
        float m = w->o[t];
        if (t > 0 && w->o[t - 1] > m)
            m = w->o[t - 1];
        if (t + 1 < n && w->o[t + 1] > m)
            m = w->o[t + 1];
        w->om[t] = m;
    }
    w->e2 = 0.0;
    for (size_t i = 0; i < w->nseg; i++) {
        struct seg *s = &w->segs[i];
        s->s0 = i * SEG_FRAMES;
        s->s1 = i + 1 == w->nseg ? n : (i + 1) * SEG_FRAMES;
        s->e2 = 0.0;
        s->sm = 0.0;
        for (size_t t = s->s0; t < s->s1; t++) {
            s->e2 += (double)w->o[t] * (double)w->o[t];
            s->sm += (double)w->om[t];
        }
        w->e2 += s->e2;
    }
    return 0;
}

/* Beat times in seconds: snapped to the nearest refined onset when one lies in
 * [-30 ms, +75 ms] of the beat frame, otherwise shifted by the median offset of
 * the snapped ones. times must hold w->n_beats values. Returns how many beats
 * snapped to an onset. */
static size_t beat_times(const struct work *w, const sm_analysis *a, float *times)
{
    size_t nb = w->n_beats;
    const float *on = a->onsets;
    size_t non = on ? a->n_onsets : 0;
    size_t j = 0;
    size_t nsnap = 0;
    float offs[64];
    for (size_t i = 0; i < nb; i++) {
        double t = (double)w->beats[i] / fps();
        times[i] = NAN;
        while (j < non && (double)on[j] < t - SNAP_BEFORE_S)
            j++;
        double bestd = INFINITY;
        for (size_t k = j; k < non && (double)on[k] <= t + SNAP_AFTER_S; k++) {
            double d = fabs((double)on[k] - (t + 0.5 * (SNAP_AFTER_S - SNAP_BEFORE_S)));
            if (d < bestd) {
                bestd = d;
                times[i] = on[k];
            }
        }
        if (!isnan(times[i])) {
            if (nsnap < 64)
                offs[nsnap] = (float)((double)times[i] - t);
            nsnap++;
        }
    }
    float shift = nsnap ? median_inplace(offs, nsnap < 64 ? nsnap : 64) : 0.0f;
    for (size_t i = 0; i < nb; i++) {
        if (isnan(times[i])) {
            double t = (double)w->beats[i] / fps() + (double)shift;
            times[i] = (float)(t > 0.0 ? t : 0.0);
        }
    }
    return nsnap;
}

/* Least-squares beat period in seconds from beat times, with beat numbers
 * counted in periods of T frames (a skipped beat counts). NaN if undefined. */
static double regress_period(const struct work *w, const float *times, double T)
{
    size_t nb = w->n_beats;
    if (nb < 3)
        return NAN;
    double sx = 0.0;
    double sy = 0.0;
    double sxx = 0.0;
    double sxy = 0.0;
    for (size_t i = 0; i < nb; i++) {
        double x = (double)lround((double)(w->beats[i] - w->beats[0]) / T);
        double y = (double)times[i] - (double)times[0];
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double dn = (double)nb;
    double den = dn * sxx - sx * sx;
    if (!(den > 0.0))
        return NAN;
    return (dn * sxy - sx * sy) / den;
}

/* ---- Loops: the length constraint ------------------------------------------ */

/* Pulse score of k equal beats around a seamless loop of N frames (beat j at
 * phase + j * N / k, wrapping), with its best phase in *phase: the same squared
 * cosine as pulse_score, with the random-phase expectation removed. */
static double circ_score_on(const float *om, size_t N, double e2, double sm, int k,
                            size_t *phase)
{
    double T = (double)N / (double)k;
    size_t nph = (size_t)ceil(T);
    double best = 0.0;
    *phase = 0;
    for (size_t ph = 0; ph < nph; ph++) {
        double sum = 0.0;
        for (int j = 0; j < k; j++) {
            size_t at = ph + (size_t)lround((double)j * T);
            sum += (double)om[at % N];
        }
        if (sum > best) {
            best = sum;
            *phase = ph;
        }
    }
    if (!(e2 > 0.0))
        return 0.0;
    double f = best * best / ((double)k * e2);
    double fm = sm * sm / ((double)N * T * e2);
    f = f < 1.0 ? f : 1.0;
    if (!(fm < 1.0))
        return 0.0;
    double r = (f - fm) / (1.0 - fm);
    return r > 0.0 ? r : 0.0;
}

/* Sum of om at k equal beats around the loop of N frames from phase ph. */
static double circ_sum(const float *om, size_t N, int k, size_t ph)
{
    double T = (double)N / (double)k;
    double sum = 0.0;
    for (int j = 0; j < k; j++)
        sum += (double)om[(ph + (size_t)lround((double)j * T)) % N];
    return sum;
}

/* Whether a pulse of k beats around the loop that starts on a beat (within
 * ALIGN_FRAC of a beat of the loop's start) sums to at least ALIGN_NEAR of
 * the best phase's sum: a syncopated part (up-strums, off-beat stabs) can make
 * the off-beat train as strong as the one on the beat, and the loop's start,
 * which is cut at a beat, then decides. */
static bool start_on_beat(const float *om, size_t N, int k, size_t best_ph)
{
    double T = (double)N / (double)k;
    double best = circ_sum(om, N, k, best_ph);
    long span = lround(ALIGN_FRAC * T);
    for (long d = -span; d <= span; d++) {
        long ph = d < 0 ? (long)N + d : d;
        if (circ_sum(om, N, k, (size_t)ph) >= ALIGN_NEAR * best)
            return true;
    }
    return false;
}

/* Whether a beat of period T frames falls at phase ph: within ALIGN_FRAC of
 * a beat of the loop's start. */
static bool phase_aligned(size_t ph, double T)
{
    double f = (double)ph / T;
    return f < ALIGN_FRAC || f > 1.0 - ALIGN_FRAC;
}

static double circ_score(const struct work *w, size_t N, int k, size_t *phase)
{
    return circ_score_on(w->om, N, w->loop_e2, w->loop_sm, k, phase);
}

/* ---- Drum roles: band envelopes over the loop ------------------------------ */

/* out[0..N): band envelope src (nsrc values) with its +-LOCAL_MEAN_FRAMES local
 * mean removed, then the maximum over +-1 frame, as o and om. */
static void band_prepare(const float *src, size_t nsrc, float first, size_t N, float *tmp,
                         float *out)
{
    for (size_t t = 0; t < N; t++) {
        float v = t == 0 ? first : (t < nsrc ? src[t] : 0.0f);
        tmp[t] = isfinite(v) && v > 0.0f ? (v < 1e6f ? v : 1e6f) : 0.0f;
    }
    above_local_mean(tmp, N, out);
    for (size_t t = 0; t < N; t++) {
        float m = out[t];
        if (t > 0 && out[t - 1] > m)
            m = out[t - 1];
        tmp[t] = m;
    }
    for (size_t t = 0; t + 1 < N; t++)
        out[t] = tmp[t] > out[t + 1] ? tmp[t] : out[t + 1];
    if (N > 0)
        out[N - 1] = tmp[N - 1];
}

/* Mean of env at the positions phase + (j + frac) * N / k, j = 0..k-1 with
 * j % every == which (every 1: all), wrapping at N. */
static double grid_mean(const float *env, size_t N, int k, size_t phase, double frac,
                        int every, int which)
{
    double T = (double)N / (double)k;
    double s = 0.0;
    int c = 0;
    for (int j = 0; j < k; j++) {
        if (j % every != which)
            continue;
        long at = (long)phase + lround(((double)j + frac) * T);
        s += (double)env[(size_t)at % N];
        c++;
    }
    return c ? s / c : 0.0;
}

/* Beats per loop that are looked at: 2^j and 3 * 2^j. */
#define LOOP_NK 20
static int loop_k(size_t i)
{
    return i % 2 == 0 ? 1 << (i / 2) : 3 << (i / 2);
}

struct loop_choice {
    int k;          /* beats in the loop; 0 = none */
    double score;   /* circ_score at k */
    double salience;
    size_t phase;   /* frames */
    size_t events;  /* beats that carry an onset */
    bool halved;    /* by the harmonic rhythm (bar lines at the loop's start) */
    double bars;    /* chord contrast of the bar lines of k (0: not tonal) */
};

/* Beats of k around the loop from phase ph whose onset strength reaches
 * SUPPORT_FRAC of the strongest of them. */
static size_t count_events(const struct work *w, size_t N, int k, size_t ph)
{
    double T = (double)N / (double)k;
    double mx = 0.0;
    for (int j = 0; j < k; j++)
        mx = fmax(mx, (double)w->om[(ph + (size_t)lround((double)j * T)) % N]);
    size_t ev = 0;
    for (int j = 0; j < k; j++) {
        double v = (double)w->om[(ph + (size_t)lround((double)j * T)) % N];
        if (v > 0.0 && v >= SUPPORT_FRAC * mx)
            ev++;
    }
    return ev;
}

/* The metrical salience of k beats: its own pulse score plus those of the
 * levels below (2k, the subdivision) and above (k / 2, k / 4: half notes and
 * bars), weighted by the loop prior. See the top of this file. */
static void loop_choose(const struct work *w, size_t N, double dur, bool tonal,
                        struct loop_choice *c)
{
    double sc[2 * LOOP_NK];
    size_t ph[2 * LOOP_NK];
    int ks[2 * LOOP_NK];
    size_t nk = 0;
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < 2 * LOOP_NK; i++) {
        int k = loop_k(i);
        double bpm = 60.0 * k / dur;
        ks[i] = k;
        sc[i] = 0.0;
        ph[i] = 0;
        nk = i + 1;
        if (bpm > 4.0 * BPM_MAX || (double)N / (double)k < 2.0)
            continue;
        sc[i] = circ_score(w, N, k, &ph[i]);
    }
    /* Two rounds: first only levels with an onset on at least 3 of every 4
     * beats (a beat is sounded), then, if none is, every level. A tonal
     * loop has one round (TONAL LOOPS at the top of this file). */
    for (int pass = tonal ? 1 : 0; pass < 2 && !c->k; pass++) {
        double best = 0.0;
        for (size_t i = 0; i < nk; i++) {
            int k = ks[i];
            double bpm = 60.0 * k / dur;
            if (bpm < BPM_MIN || bpm > BPM_MAX || k < 3)
                continue;
            size_t ev = count_events(w, N, k, ph[i]);
            if (pass == 0 && 4 * ev < 3 * (size_t)k)
                continue;
            double v = sc[i];
            if (i + 2 < nk)
                v += LOOP_W_SUB * sc[i + 2];
            if (i >= 2)
                v += LOOP_W_HALF * sc[i - 2];
            if (i >= 4)
                v += LOOP_W_BAR * sc[i - 4];
            double z = log2(bpm / LOOP_PRIOR_CENTRE) / LOOP_PRIOR_SD_OCT;
            v *= exp(-0.5 * z * z);
            if (k % 3 == 0)
                v *= LOOP_TRIPLE;
            if (v > best) {
                best = v;
                c->k = k;
                c->score = sc[i];
                c->salience = v;
                c->phase = ph[i];
                c->events = ev;
            }
        }
    }
}

/* Chord-change contrast of a loop of N frames read as B bars (one chord per
 * bar): the mean chroma novelty at the bar lines less that at the half-bars,
 * at the best lag in 0..15 % of a bar (slow attacks make the novelty peak
 * late). x: the novelty over the loop, frame 0 as the loop plays it. */
static double chord_contrast(const float *x, size_t N, int B)
{
    double bar = (double)N / (double)B;
    long lagmax = lround(0.15 * bar);
    double best = -INFINITY;
    for (long lag = 0; lag <= lagmax; lag++) {
        double on = 0.0;
        double off = 0.0;
        for (int j = 0; j < B; j++) {
            long a = lround((double)j * bar) + lag;
            long b = lround(((double)j + 0.5) * bar) + lag;
            double va = 0.0;
            double vb = 0.0;
            for (long d = -1; d <= 1; d++) {
                va = fmax(va, (double)x[(size_t)((a + d + (long)N) % (long)N)]);
                vb = fmax(vb, (double)x[(size_t)((b + d + (long)N) % (long)N)]);
            }
            on += va;
            off += vb;
        }
        best = fmax(best, (on - off) / (double)B);
    }
    return best;
}

/* The chroma novelty over a loop of N frames, frame 0 as the loop plays it
 * (after its own end), into a new array (NULL when out of memory). */
static float *loop_novelty(const struct sm__onset *on, size_t N)
{
    float *x = sm_calloc(N, sizeof(*x));
    if (!x)
        return NULL;
    for (size_t t = 0; t < N && t < on->chroma_nov.n; t++) {
        float v = on->chroma_nov.v[t];
        x[t] = isfinite(v) && v > 0.0f ? v : 0.0f;
    }
    x[0] = sm__onset_wrap_novelty(on);
    return x;
}

/* The chord contrast of the bar lines (CHORD_BEATS beats) of k beats around
 * the loop of N frames, or -INFINITY when k has no whole bars in range. */
static double bar_contrast(const float *x, size_t N, int k, double dur)
{
    double bpm = 60.0 * k / dur;
    if (k < CHORD_BEATS || k % CHORD_BEATS != 0 || bpm < BPM_MIN || bpm > BPM_MAX ||
        (double)N / (double)(k / CHORD_BEATS) < 2.0 * SM__ONSET_NOV_W)
        return -INFINITY;
    return chord_contrast(x, N, k / CHORD_BEATS);
}

/* The chord rule for tonal loops (top of this file): among half, the same and
 * twice the beats of c->k, the level whose bar lines (4 beats) carry the most
 * chroma change against its half-bars. Updates c. Returns 0, or -1 when out
 * of memory. */
static int tonal_level(const struct work *w, const struct sm__onset *on, size_t N, double dur,
                       struct loop_choice *c)
{
    float *x = loop_novelty(on, N);
    if (!x)
        return -1;
    /* Twice as fast when the bar lines of 2k carry the chord changes
     * clearly more than those of k (by CHORD_RATIO, as below). */
    double own = bar_contrast(x, N, c->k, dur);
    double fast = bar_contrast(x, N, 2 * c->k, dur);
    int best_k = c->k;
    if (fast >= CHORD_CONTRAST_MIN && fast >= CHORD_RATIO * fmax(own, 0.0))
        best_k = 2 * c->k;
    /* Half as fast when the chords change on every other bar line only: the
     * bar lines of k / 2 beats carry the change and its half-bars do not, by
     * clearly more than the bar lines of k beats stand out from theirs. */
    if (best_k == c->k && c->k % (2 * CHORD_BEATS) == 0 &&
        c->k / (2 * CHORD_BEATS) >= CHORD_HALVE_BARS) {
        int k = c->k / 2;
        double bpm = 60.0 * k / dur;
        if (bpm >= BPM_MIN && (double)N / (double)(k / CHORD_BEATS) >= 2.0 * SM__ONSET_NOV_W) {
            double slow = chord_contrast(x, N, k / CHORD_BEATS);
            if (slow >= CHORD_CONTRAST_MIN && slow >= CHORD_RATIO * fmax(own, 0.0)) {
                best_k = k;
                c->halved = true;
            }
        }
    }
    /* Triple to duple: a triple level (3 * 2^j beats: quarter-note triplets
     * of a 4/4 loop) whose bar lines do not carry the chord changes gives way
     * to the duple level of 2k / 3 beats whose bar lines do. */
    if (best_k == c->k && c->k % 3 == 0) {
        double duple = bar_contrast(x, N, 2 * c->k / 3, dur);
        if (duple >= CHORD_CONTRAST_MIN && duple >= CHORD_RATIO * fmax(own, 0.0))
            best_k = 2 * c->k / 3;
    }
    c->bars = fmax(bar_contrast(x, N, best_k, dur), 0.0);
    sm_free(x);
    if (best_k != c->k) {
        size_t ph;
        c->k = best_k;
        c->score = circ_score(w, N, best_k, &ph);
        c->phase = ph;
        c->events = count_events(w, N, best_k, ph);
    }
    return 0;
}

/* Drum-role evidence of one level (k beats around the loop): see the top of
 * this file. */
struct role_ev {
    int k;
    size_t ph;
    double h0;           /* high band on the beats */
    double h8, h16, h32; /* high band on half-, quarter- and eighth-beats */
    double l8;           /* low band on half-beats */
    double kick;         /* share of beats with a kick */
    double bb, ht;       /* snare: backbeat (2 and 4) and half-time (3) contrast */
};

/* env at beat j of period T from the (possibly negative) frame start, wrapping
 * around the loop of N frames. */
static double band_at(const float *env, size_t N, long start, int j, double T)
{
    long at = (start + lround((double)j * T)) % (long)N;
    return (double)env[at < 0 ? at + (long)N : at];
}

static void role_eval(const struct work *w, size_t N, const float *le, double lmx,
                      const float *se, const float *he, double hmx, int k, struct role_ev *r)
{
    memset(r, 0, sizeof(*r));
    r->k = k;
    circ_score(w, N, k, &r->ph);
    size_t ph = r->ph;
    double T = (double)N / (double)k;
    r->h0 = grid_mean(he, N, k, ph, 0.0, 1, 0) / hmx;
    r->h8 = fmax(grid_mean(he, N, k, ph, 0.5, 1, 0), grid_mean(he, N, k, ph, 0.625, 1, 0)) / hmx;
    /* Sixteenths straight or swung (late by a sixteenth of the beat), as the
     * half-beat is straight or swung to 5/8. */
    r->h16 = 0.5 *
             (fmax(grid_mean(he, N, k, ph, 0.25, 1, 0), grid_mean(he, N, k, ph, 0.3125, 1, 0)) +
              fmax(grid_mean(he, N, k, ph, 0.75, 1, 0), grid_mean(he, N, k, ph, 0.8125, 1, 0))) /
             hmx;
    if (T >= ROLE_H32_FRAMES)
        r->h32 = 0.25 *
                 (grid_mean(he, N, k, ph, 0.125, 1, 0) + grid_mean(he, N, k, ph, 0.375, 1, 0) +
                  grid_mean(he, N, k, ph, 0.625, 1, 0) + grid_mean(he, N, k, ph, 0.875, 1, 0)) /
                 hmx;
    /* The downbeat: the beat at ph, or the one before it when ph is in the
     * second half of the beat (the loop starts just before a beat). */
    long start = (double)ph > 0.5 * T ? (long)ph - lround(T) : (long)ph;
    if (lmx > 0.0) {
        r->l8 = fmax(grid_mean(le, N, k, ph, 0.5, 1, 0), grid_mean(le, N, k, ph, 0.625, 1, 0)) /
                lmx;
        int hit = 0;
        for (int j = 0; j < k; j++) {
            if (band_at(le, N, start, j, T) >= ROLE_KICK_FRAC * lmx)
                hit++;
        }
        r->kick = (double)hit / (double)k;
    }
    if (k % 4 == 0) {
        double m[4] = {0.0, 0.0, 0.0, 0.0};
        double mx = 0.0;
        for (int j = 0; j < k; j++)
            m[j % 4] += band_at(se, N, start, j, T) / (double)(k / 4);
        for (int p = 0; p < 4; p++)
            mx = fmax(mx, m[p]);
        if (mx > 0.0) {
            r->bb = (fmin(m[1], m[3]) - fmax(m[0], m[2])) / mx;
            r->ht = (m[2] - fmax(m[0], fmax(m[1], m[3]))) / mx;
        }
    }
}

/* The drum-role rule (top of this file): among half, the same and twice the
 * beats of c->k, the level whose half-beats the high band sounds and whose
 * quarter-beats it does not, and whose half-beats carry no kick. Updates c.
 * Returns 0, or -1 when out of memory. */
static int role_level(const struct work *w, const struct sm__onset *on, size_t N, double dur,
                      struct loop_choice *c)
{
    const struct sm__fvec *lo = &on->band[SM__ONSET_LOW];
    const struct sm__fvec *sn = &on->band[SM__ONSET_SNARE];
    const struct sm__fvec *hi = &on->band[SM__ONSET_HIGH];
    if (lo->n < N / 2 || sn->n < N / 2 || hi->n < N / 2)
        return 0;
    float *tmp = sm_malloc(N * sizeof(*tmp));
    float *le = sm_malloc(N * sizeof(*le));
    float *se = sm_malloc(N * sizeof(*se));
    float *he = sm_malloc(N * sizeof(*he));
    if (!tmp || !le || !se || !he) {
        sm_free(tmp);
        sm_free(le);
        sm_free(se);
        sm_free(he);
        return -1;
    }
    float wodf;
    float wb[SM__ONSET_NBANDS];
    sm__onset_wrap_rise(on, &wodf, wb);
    band_prepare(lo->v, lo->n, fminf(wb[SM__ONSET_LOW], lo->n ? lo->v[0] : 0.0f), N, tmp, le);
    band_prepare(sn->v, sn->n, fminf(wb[SM__ONSET_SNARE], sn->n ? sn->v[0] : 0.0f), N, tmp, se);
    band_prepare(hi->v, hi->n, fminf(wb[SM__ONSET_HIGH], hi->n ? hi->v[0] : 0.0f), N, tmp, he);
    double lmx = 0.0;
    double hmx = 0.0;
    for (size_t t = 0; t < N; t++) {
        lmx = fmax(lmx, (double)le[t]);
        hmx = fmax(hmx, (double)he[t]);
    }
    if (hmx > 0.0) {
        int cand[3] = {c->k % 2 == 0 ? c->k / 2 : 0, c->k, 2 * c->k};
        struct role_ev ev[3];
        double val[3];
        bool ok[3];
        for (int i = 0; i < 3; i++) {
            int k = cand[i];
            double bpm = 60.0 * k / dur;
            ok[i] = !(k < 3 || bpm < BPM_MIN || bpm > BPM_MAX || (double)N / (double)k < 4.0);
            if (!ok[i])
                continue;
            role_eval(w, N, le, lmx, se, he, hmx, k, &ev[i]);
            const struct role_ev *r = &ev[i];
            val[i] = r->h8 - ROLE_W_H16 * r->h16 - ROLE_W_H32 * r->h32 - ROLE_W_L8 * r->l8 +
                     ROLE_W_SNARE * fmax(r->bb, r->ht) + (k == c->k ? ROLE_KEEP : 0.0);
            if (r->kick >= ROLE_FOUR_BEATS && r->l8 < ROLE_FOUR_OFF)
                val[i] += ROLE_W_FOUR;
        }
        /* Quarter-note hats (convention 2): a level whose hats fall on its
         * beats and hardly between them, while the level half as fast has
         * its half-beats sounded, reads eighth-note hats as quarter notes
         * and is left out (unless nothing else is left). */
        bool left_out[3] = {false, false, false};
        bool any = false;
        for (int i = 1; i < 3; i++) {
            if (!ok[i] || !ok[i - 1] || !(ev[i].h0 > 0.0) || !(ev[i - 1].h0 > 0.0))
                continue;
            double rho = ev[i].h8 / ev[i].h0;
            double rho_slow = ev[i - 1].h8 / ev[i - 1].h0;
            left_out[i] = rho < ROLE_QUARTER_HATS && rho < ROLE_QUARTER_REL * rho_slow;
        }
        /* Snare veto (convention 1): when one level finds the snare clearly
         * on 2 and 4 or on 3, a level (of whole 4/4 bars) where it falls
         * on neither is left out. */
        bool clear = false;
        for (int i = 0; i < 3; i++)
            clear = clear || (ok[i] && fmax(ev[i].bb, ev[i].ht) >= ROLE_SNARE_CLEAR);
        for (int i = 0; i < 3; i++) {
            if (clear && ok[i] && cand[i] % 4 == 0 && !(fmax(ev[i].bb, ev[i].ht) > 0.0))
                left_out[i] = true;
        }
        for (int i = 0; i < 3; i++)
            any = any || (ok[i] && !left_out[i]);
        double best = -INFINITY;
        int best_k = c->k;
        size_t best_ph = c->phase;
        for (int i = 0; i < 3; i++) {
            if (!ok[i] || (any && left_out[i]))
                continue;
            if (val[i] > best) {
                best = val[i];
                best_k = cand[i];
                best_ph = ev[i].ph;
            }
        }
        if (best_k != c->k) {
            c->k = best_k;
            c->score = circ_score(w, N, best_k, &best_ph);
            c->phase = best_ph;
            c->events = count_events(w, N, best_k, best_ph);
        }
    }
    sm_free(tmp);
    sm_free(le);
    sm_free(se);
    sm_free(he);
    return 0;
}

static const int loop_beats[] = {3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256,
                                 384, 512, 768, 1024};

static double round1(double x)
{
    return round(x * 10.0) / 10.0;
}

/* The tempo from chord changes (CHORD CHANGES at the top of this file) for a
 * sound the onset envelope gave no tempo. Returns 1 when it set a tempo, 0 when
 * it did not (a is unchanged), -1 when out of memory. */
struct chord_choice {
    int kc;         /* chord changes in the loop; 0 = none */
    double score;
    size_t phase;
    size_t events;
};

/* The chord-change level of a loop of dur seconds (CHORD CHANGES at the top of
 * this file) into c (c->kc 0 when none qualifies). Returns 0, or -1 when out
 * of memory. */
static int chord_choose(const struct sm__onset *on, double dur, int min_kc,
                        struct chord_choice *c)
{
    memset(c, 0, sizeof(*c));
    if (!on || dur < CHORD_MIN_S)
        return 0;
    size_t N = (size_t)lround(dur * fps());
    size_t nn = on->chroma_nov.n;
    if (N < 16 || nn == 0)
        return 0;
    float *x = sm_calloc(N, sizeof(*x));
    if (!x)
        return -1;
    double e2 = 0.0;
    double sm = 0.0;
    double mx = 0.0;
    for (size_t t = 0; t < N && t < nn; t++) {
        float v = on->chroma_nov.v[t];
        x[t] = isfinite(v) && v > 0.0f ? v : 0.0f;
        e2 += (double)x[t] * (double)x[t];
        sm += (double)x[t];
        mx = fmax(mx, (double)x[t]);
    }
    /* Frame 0 as the loop plays it: after its own end. */
    double wrap = (double)sm__onset_wrap_novelty(on);
    e2 += wrap * wrap - (double)x[0] * (double)x[0];
    sm += wrap - (double)x[0];
    x[0] = (float)wrap;
    mx = 0.0;
    for (size_t t = 0; t < N; t++)
        mx = fmax(mx, (double)x[t]);
    int best_k = 0;
    double best_v = 0.0;
    double best_s = 0.0;
    size_t best_ph = 0;
    size_t best_ev = 0;
    if (mx >= CHORD_MIN_NOV) {
        for (int kc = min_kc; kc <= 16; kc *= 2) {
            double bpm = 60.0 * CHORD_BEATS * kc / dur;
            double T = (double)N / (double)kc;
            if (bpm < BPM_MIN || bpm > BPM_MAX || T < 2.0 * SM__ONSET_NOV_W)
                continue;
            size_t ph;
            double sc = circ_score_on(x, N, e2, sm, kc, &ph);
            /* Changes: positions whose novelty reaches CHORD_EVENT_FRAC of the
             * strongest of them and CHORD_MIN_NOV. */
            double pmx = 0.0;
            for (int j = 0; j < kc; j++)
                pmx = fmax(pmx, (double)x[(ph + (size_t)lround((double)j * T)) % N]);
            size_t ev = 0;
            for (int j = 0; j < kc; j++) {
                double v = (double)x[(ph + (size_t)lround((double)j * T)) % N];
                if (v >= CHORD_EVENT_FRAC * pmx && v >= CHORD_MIN_NOV)
                    ev++;
            }
            if (4 * ev < 3 * (size_t)kc || ev < 2 || sc < CHORD_MIN_SCORE)
                continue;
            double z = log2(bpm / LOOP_PRIOR_CENTRE) / LOOP_PRIOR_SD_OCT;
            double v = sc * exp(-0.5 * z * z);
            if (v > best_v) {
                best_v = v;
                best_k = kc;
                best_s = sc;
                best_ph = ph;
                best_ev = ev;
            }
        }
    }
    sm_free(x);
    c->kc = best_k;
    c->score = best_s;
    c->phase = best_ph;
    c->events = best_ev;
    return 0;
}

/* Sets a to a loop of bpm over dur s, beats every 60 / bpm s from t0, with
 * confidence conf and evidence ev. Returns 1, or -1 when out of memory (a is
 * then unchanged). */
static int set_loop_tempo(sm_analysis *a, double bpm, double t0, double dur, double conf,
                          const char *ev)
{
    double beat = 60.0 / bpm;
    size_t nb = (size_t)floor((dur - t0) / beat - 1e-9) + 1;
    float *times = sm_malloc(nb * sizeof(*times));
    if (!times)
        return -1;
    for (size_t i = 0; i < nb; i++)
        times[i] = (float)(t0 + (double)i * beat);
    sm_free(a->beats);
    a->beats = times;
    a->n_beats = nb;
    a->has_tempo = true;
    a->bpm = round1(bpm);
    a->bpm_confidence = conf;
    a->n_bpm_alternatives = 0;
    if (a->bpm / 2.0 >= BPM_MIN)
        a->bpm_alternatives[a->n_bpm_alternatives++] = round1(a->bpm / 2.0);
    if (a->bpm * 2.0 <= BPM_MAX)
        a->bpm_alternatives[a->n_bpm_alternatives++] = round1(a->bpm * 2.0);
    a->loop = true;
    a->loop_confidence = 0.5 + 0.5 * fmin(1.0, 0.5 + conf);
    snprintf(a->loop_evidence, sizeof(a->loop_evidence), "%s", ev);
    return 1;
}

/* The tempo from chord changes for a sound the onset envelope gave no tempo.
 * Returns 1 when it set a tempo, 0 when it did not (a is unchanged), -1 when
 * out of memory. */
static int chord_tempo(const struct sm__onset *on, double dur, double tail_db, sm_analysis *a)
{
    struct chord_choice cc;
    if (chord_choose(on, dur, a->has_key ? 1 : CHORD_KEYLESS_MIN, &cc))
        return -1;
    if (!cc.kc)
        return 0;
    int best_k = cc.kc;
    double best_s = cc.score;
    size_t best_ph = cc.phase;
    size_t best_ev = cc.events;
    bool to_end = !isnan(tail_db) && tail_db >= -20.0;
    if (!to_end)
        return 0;
    double bpm = 60.0 * CHORD_BEATS * best_k / dur;
    double beat = 60.0 / bpm;
    double t0 = fmod((double)best_ph / fps(), beat);
    if (beat - t0 < 0.12 * beat)
        t0 = 0.0;
    double conf = best_s * fmin(1.0, ((double)best_ev - 1.0) / 3.0);
    char ev[sizeof(a->loop_evidence)];
    snprintf(ev, sizeof(ev),
             "loop: %d chord changes in %.3f s, %d beats each (%.1f BPM), strength %.2f, tail %.0f dB",
             best_k, dur, CHORD_BEATS, round1(bpm), conf, tail_db);
    return set_loop_tempo(a, bpm, t0, dur, conf, ev);
}

/* Tail level: the last 5 % of the RMS envelope against its peak, in dB (NaN
 * when unknown). */
static double tail_level(const sm_analysis *a)
{
    double tail_db = NAN;
    if (a->rms_env && a->n_rms_env > 0) {
        size_t nr = a->n_rms_env;
        double pk = 0.0;
        for (size_t i = 0; i < nr; i++)
            pk = (double)a->rms_env[i] > pk ? (double)a->rms_env[i] : pk;
        size_t k = nr / 20 > 2 ? nr / 20 : (nr < 2 ? nr : 2);
        double s = 0.0;
        for (size_t i = nr - k; i < nr; i++)
            s += a->rms_env[i] > 0.0f ? (double)a->rms_env[i] : 0.0;
        if (pk > 0.0)
            tail_db = 20.0 * log10(fmax(s / (double)k / pk, 1e-6));
    }
    return tail_db;
}

int sm__tempo_analyze(const float *odf, size_t n, sm_analysis *a)
{
    return analyze(odf, n, NULL, a);
}

/* Note changes: local maxima of the note-change envelope of at least
 * NOTE_CHANGE_MIN, NOTE_CHANGE_GAP frames apart (frame 0, the entry out of
 * silence, does not count). */
static size_t note_changes(const struct sm__fvec *nv)
{
    size_t count = 0;
    size_t last = 0;
    for (size_t t = 1; t + 1 < nv->n; t++) {
        float v = nv->v[t];
        if (!(v >= NOTE_CHANGE_MIN) || v < nv->v[t - 1] || v < nv->v[t + 1])
            continue;
        if (count > 0 && t - last < NOTE_CHANGE_GAP)
            continue;
        if (t < NOTE_CHANGE_GAP)
            continue;
        count++;
        last = t;
    }
    return count;
}

/* ---- Melody level: every candidate scored on all the evidence ----------- */

/* The envelope src (nsrc values; frame 0 as the loop plays it: first) over a
 * loop of N frames, its local mean removed (o) and its +-1 frame maximum (om),
 * as work_prepare does for the onset envelope. Sets *e2 (sum of o^2) and *sm
 * (sum of om). tmp: N floats of scratch. */
static void loop_env(const float *src, size_t nsrc, float first, size_t N, float *tmp, float *o,
                     float *om, double *e2, double *sm)
{
    for (size_t t = 0; t < N; t++) {
        float v = t == 0 ? first : (t < nsrc ? src[t] : 0.0f);
        tmp[t] = isfinite(v) && v > 0.0f ? (v < 1e6f ? v : 1e6f) : 0.0f;
    }
    above_local_mean(tmp, N, o);
    *e2 = 0.0;
    *sm = 0.0;
    for (size_t t = 0; t < N; t++) {
        float m = o[t];
        if (t > 0 && o[t - 1] > m)
            m = o[t - 1];
        if (t + 1 < N && o[t + 1] > m)
            m = o[t + 1];
        om[t] = m;
        *e2 += (double)o[t] * (double)o[t];
        *sm += (double)m;
    }
}

/* MELODY LEVEL (top of this file): the beats of a tonal loop of N frames
 * (dur s) whose attacks are too slow for the onset envelope, chosen among
 * all its length-constrained candidates by the metrical salience of the
 * onset, note-change and chord-novelty envelopes together plus the chord
 * contrast of the candidate's bar lines. Returns the beats (0 when no
 * candidate is in range) in *k_out, -1 when out of memory. */
static int melody_level(const struct sm__onset *o, size_t N, double dur, int *k_out,
                        double *score)
{
    enum { NENV = 3 };
    *k_out = 0;
    *score = 0.0;
    float *buf = sm_malloc(7 * N * sizeof(*buf));
    float *x = loop_novelty(o, N);
    if (!buf || !x) {
        sm_free(buf);
        sm_free(x);
        return -1;
    }
    float *tmp = buf;
    float first_odf;
    float first_band[SM__ONSET_NBANDS];
    sm__onset_wrap_rise(o, &first_odf, first_band);
    const struct sm__fvec *src[NENV] = {&o->odf, &o->note_nov, &o->chroma_nov};
    float first[NENV] = {first_odf, o->note_nov.n ? o->note_nov.v[0] : 0.0f, x[0]};
    double sc[NENV][2 * LOOP_NK];
    for (int e = 0; e < NENV; e++) {
        float *eo = buf + (size_t)(1 + 2 * e) * N;
        float *eom = eo + N;
        double e2;
        double sm;
        loop_env(src[e]->v, src[e]->n, first[e], N, tmp, eo, eom, &e2, &sm);
        for (size_t i = 0; i < 2 * LOOP_NK; i++) {
            int k = loop_k(i);
            size_t ph;
            sc[e][i] = 0.0;
            if (60.0 * k / dur <= 4.0 * BPM_MAX && (double)N / (double)k >= 2.0)
                sc[e][i] = circ_score_on(eom, N, e2, sm, k, &ph);
        }
    }
    double best = -INFINITY;
    for (size_t i = 0; i < 2 * LOOP_NK; i++) {
        int k = loop_k(i);
        double bpm = 60.0 * k / dur;
        if (bpm < BPM_MIN || bpm > BPM_MAX || k < 3)
            continue;
        double v = 0.0;
        for (int e = 0; e < NENV; e++) {
            v += sc[e][i];
            if (i + 2 < 2 * LOOP_NK)
                v += LOOP_W_SUB * sc[e][i + 2];
            if (i >= 2)
                v += LOOP_W_HALF * sc[e][i - 2];
            if (i >= 4)
                v += LOOP_W_BAR * sc[e][i - 4];
        }
        double z = log2(bpm / LOOP_PRIOR_CENTRE) / LOOP_PRIOR_SD_OCT;
        double pr = exp(-0.5 * z * z);
        v *= pr;
        if (k % 3 == 0)
            v *= LOOP_TRIPLE;
        double bars = bar_contrast(x, N, k, dur);
        if (isfinite(bars))
            v += MELODY_W_BARS * bars * pr;
        if (v > best) {
            best = v;
            *k_out = k;
            *score = sc[1][i];
        }
    }
    sm_free(buf);
    sm_free(x);
    return 0;
}

/* MELODY LEVEL for a tonal sound that neither the onset envelope nor the chord
 * changes gave a tempo. Returns 1 when it set a tempo, 0 when it did not (a is
 * unchanged), -1 when out of memory. */
static int melody_tempo(const struct sm__onset *o, sm_analysis *a)
{
    size_t n = o->odf.n;
    if (n == 0 || o->note_nov.n == 0)
        return 0;
    double tail_db = tail_level(a);
    size_t changes = note_changes(&o->note_nov);
    if (isnan(tail_db) || tail_db < NOTE_TAIL_DB || changes < NOTE_MIN_CHANGES)
        return 0;
    double dur = a->duration > 0.0 ? a->duration : (double)n / fps();
    size_t N = (size_t)lround(dur * fps());
    N = N < n ? N : n;
    if (dur < LOOP_MIN_S || N < 16)
        return 0;
    int k;
    double score;
    if (melody_level(o, N, dur, &k, &score))
        return -1;
    if (!k)
        return 0;
    double bpm = 60.0 * k / dur;
    char ev[sizeof(a->loop_evidence)];
    snprintf(ev, sizeof(ev),
             "loop: melody of %zu note changes, %d beats in %.3f s (%.1f BPM), strength %.2f, "
             "tail %.0f dB",
             changes, k, dur, round1(bpm), score, tail_db);
    return set_loop_tempo(a, bpm, 0.0, dur, score, ev);
}

int sm__tempo_analyze_ex(const struct sm__onset *o, sm_analysis *a)
{
    if (!o)
        return analyze(NULL, 0, NULL, a);
    int rc = analyze(o->odf.v, o->odf.n, o, a);
    if (rc < 0 || a->has_tempo)
        return rc;
    double dur = a->duration > 0.0 ? a->duration : (double)o->odf.n / fps();
    /* Two chord changes: a melody in two phrases goes by its note changes
     * first (TWO CHANGES at the top of this file). */
    if (a->has_key) {
        struct chord_choice cc;
        if (chord_choose(o, dur, 1, &cc))
            return -1;
        if (cc.kc > 0 && cc.kc < CHORD_MIN_CHANGES) {
            rc = melody_tempo(o, a);
            if (rc != 0)
                return rc < 0 ? -1 : 0;
        }
    }
    rc = chord_tempo(o, dur, tail_level(a), a);
    if (rc != 0 || !a->has_key)
        return rc < 0 ? -1 : 0;
    return melody_tempo(o, a) < 0 ? -1 : 0;
}

static int analyze(const float *odf, size_t n, const struct sm__onset *on, sm_analysis *a)
{
    sm_free(a->beats);
    a->beats = NULL;
    a->n_beats = 0;
    a->has_tempo = false;
    a->bpm = NAN;
    a->bpm_confidence = NAN;
    a->n_bpm_alternatives = 0;
    for (size_t i = 0; i < 4; i++)
        a->bpm_alternatives[i] = NAN;
    a->loop = false;
    a->loop_confidence = NAN;
    a->loop_evidence[0] = '\0';

    double dur = a->duration;
    if (!(dur > 0.0))
        dur = (double)n / fps();
    size_t n_on = a->onsets ? a->n_onsets : 0;

    double tail_db = tail_level(a);
    char tail_txt[24];
    if (isnan(tail_db))
        snprintf(tail_txt, sizeof(tail_txt), "n/a");
    else
        snprintf(tail_txt, sizeof(tail_txt), "%.0f dB", tail_db);

    struct work w;
    memset(&w, 0, sizeof(w));
    double Tmin = 60.0 * fps() / BPM_MAX;
    if (!odf || n < (size_t)(3.0 * Tmin)) {
        snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                 "one-shot: %.2f s is too short for a tempo, %zu onsets, tail %s", dur,
                 n_on, tail_txt);
        a->loop_confidence = n_on <= 1 ? 0.9 : 0.7;
        return 0;
    }
    if (work_prepare(&w, odf, n, a)) {
        work_release(&w);
        return -1;
    }
    if (!(w.e2 > 0.0)) {
        work_release(&w);
        snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                 "one-shot: no onsets in %.2f s, tail %s", dur, tail_txt);
        a->loop_confidence = 0.9;
        return 0;
    }

    /* 2. Pulse score over the grid. */
    double bestv = -1.0;
    double bestT = 0.0;
    double bestScore = 0.0;
    for (double bpm = BPM_MIN; bpm <= BPM_MAX * 1.0001; bpm *= GRID_STEP) {
        double T = 60.0 * fps() / bpm;
        if ((double)n < 3.0 * T)
            continue;
        double sc = pulse_score(&w, T);
        double v = sc * prior(bpm);
        if (v > bestv) {
            bestv = v;
            bestT = T;
            bestScore = sc;
        }
    }
    if (!(bestT > 0.0)) {
        work_release(&w);
        snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                 "one-shot: %.2f s is too short for a tempo, %zu onsets, tail %s", dur,
                 n_on, tail_txt);
        a->loop_confidence = 0.8;
        return 0;
    }
    /* Accent rule (see the top of this file). */
    double bpm_grid = 60.0 * fps() / bestT;
    if (bpm_grid > ACCENT_MIN_BPM && bpm_grid / 2.0 >= BPM_MIN &&
        (double)n >= 6.0 * bestT && accent_ratio(&w, bestT) >= ACCENT_RATIO) {
        bestT *= 2.0;
        bestScore = pulse_score(&w, bestT);
        bpm_grid /= 2.0;
    }

    /* 4a. Loops: a sound cut to a whole number of beats picks its tempo among
     * 60 * k / duration (see the top of this file). */
    struct loop_choice lc;
    memset(&lc, 0, sizeof(lc));
    bool loop_path = false;
    size_t N = (size_t)lround(dur * fps());
    N = N < n ? N : n;
    if (dur >= LOOP_MIN_S && N >= 8) {
        double omx = 0.0;
        for (size_t t = 0; t < N; t++) {
            w.loop_e2 += (double)w.o[t] * (double)w.o[t];
            w.loop_sm += (double)w.om[t];
            omx = fmax(omx, (double)w.o[t]);
        }
        loop_choose(&w, N, dur, on && a->has_key, &lc);
        int salient_k = lc.k;
        size_t salient_ph = lc.phase;
        double salient_score = lc.score;
        if (on && lc.k) {
            int rc = a->has_key ? tonal_level(&w, on, N, dur, &lc)
                                : role_level(&w, on, N, dur, &lc);
            if (rc < 0) {
                work_release(&w);
                return -1;
            }
        }
        if (lc.k) {
            double lbpm = 60.0 * lc.k / dur;
            double T = (double)N / (double)lc.k;
            /* The salience winner starts on a beat, or a syncopated one
             * starts close enough; a level the harmonic rhythm halved has
             * every other of its beats and its bar lines at the start. */
            bool salient_aligned =
                phase_aligned(salient_ph, (double)N / (double)salient_k) ||
                (salient_score >= LOOP_SHAPED_CONF &&
                 start_on_beat(w.om, N, salient_k, salient_ph));
            bool aligned_l = phase_aligned(lc.phase, T) ||
                             ((lc.k == salient_k || lc.halved) && salient_aligned);
            /* The last onset (or strong envelope frame when onsets are unknown). */
            double last = 0.0;
            if (n_on) {
                last = (double)a->onsets[n_on - 1];
            } else {
                for (size_t t = N; t-- > 0;) {
                    if ((double)w.o[t] >= SUPPORT_FRAC * omx && w.o[t] > 0.0f) {
                        last = (double)t / fps();
                        break;
                    }
                }
            }
            bool to_end_l = dur - last <= 2.0 * 60.0 / lbpm + 0.05 ||
                            (!isnan(tail_db) && tail_db >= -20.0);
            /* A clear free pulse must be one of the loop's metrical levels. */
            bool agrees = true;
            if (bestScore >= HAS_TEMPO_CONF) {
                static const double ratios[] = {0.25, 1.0 / 3.0, 0.5, 2.0 / 3.0, 1.0,
                                                1.5, 2.0, 3.0, 4.0};
                /* The free estimate is good to about 2 frames over its segment,
                 * and to no better than a frame per beat. */
                double tol = FIT_TOL + fmax(2.0 / (double)(n < SEG_FRAMES ? n : SEG_FRAMES),
                                            1.0 / bestT);
                agrees = false;
                for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
                    if (fabs(lbpm / (bpm_grid * ratios[i]) - 1.0) <= tol)
                        agrees = true;
                }
                /* Three against four: a free pulse of 3 beats per 4 of the
                 * level (or 4 per 3) that divides the loop into a whole
                 * number of its own beats is itself one of the loop's
                 * levels, which the salience has already weighed. Only
                 * over a sounded beat (3 of every 4 beats carry an onset):
                 * a held note's few attacks are no figure against a beat. */
                bool sounded = 4 * lc.events >= 3 * (size_t)lc.k;
                if (!agrees && sounded && lc.k % 4 == 0 &&
                    fabs(0.75 * lbpm / bpm_grid - 1.0) <= tol)
                    agrees = true;
                if (!agrees && sounded && lc.k % 3 == 0 &&
                    fabs(lbpm / (0.75 * bpm_grid) - 1.0) <= tol)
                    agrees = true;
            }
            /* Chord changes on the level's bar lines witness it as well. */
            if (lc.bars >= CHORD_WITNESS)
                agrees = true;
            loop_path = aligned_l && to_end_l && agrees && lc.events >= 2 &&
                        (!a->onsets || n_on >= 3) &&
                        lc.score >= LOOP_MIN_SCORE;
            if (loop_path) {
                bestT = T;
                bestScore = lc.score;
                bpm_grid = lbpm;
            }
        }
    }

    /* 3. Beats. */
    if (track_beats(&w, bestT)) {
        work_release(&w);
        return -1;
    }
    size_t nb = w.n_beats;
    double omax = 0.0;
    for (size_t i = 0; i < nb; i++)
        omax = fmax(omax, strength(w.o, n, w.beats[i]));
    size_t supported = 0;
    for (size_t i = 0; i < nb; i++) {
        double v = strength(w.o, n, w.beats[i]);
        if (v >= SUPPORT_FRAC * omax && v > 0.0)
            supported++;
    }
    double support = ((double)supported - 1.0) / 3.0;
    support = support < 0.0 ? 0.0 : (support > 1.0 ? 1.0 : support);
    double conf = bestScore * support;
    if (loop_path)
        conf = lc.score * fmin(1.0, ((double)lc.events - 1.0) / 3.0);
    a->bpm_confidence = conf;
    if (nb < 1 || (!loop_path && (nb < 3 || supported < 3))) {
        work_release(&w);
        snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                 "one-shot: periodicity %.2f, %zu onset%s, %.2f s, tail %s", conf, n_on,
                 n_on == 1 ? "" : "s", dur, tail_txt);
        a->loop_confidence = fmin(0.95, 0.6 + 0.4 * (1.0 - conf / HAS_TEMPO_CONF));
        return 0;
    }

    float *times = sm_malloc(nb * sizeof(*times));
    if (!times) {
        work_release(&w);
        return -1;
    }
    size_t snapped = beat_times(&w, a, times);
    double period = regress_period(&w, times, bestT);
    double bpm = bpm_grid;
    if (period > 0.0 && fabs(60.0 / period / bpm_grid - 1.0) < 0.05)
        bpm = 60.0 / period;

    bool loop = false;
    if (loop_path) {
        /* 4a (continued): the loop's exact tempo. */
        bpm = bpm_grid;
        loop = true;
        a->loop_confidence = 0.5 + 0.5 * fmin(1.0, 0.5 + conf);
        snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                 "loop: periodicity %.2f, %d beats in %.3f s (%.1f BPM), %zu onsets, tail %s",
                 conf, lc.k, dur, round1(bpm), n_on, tail_txt);
    } else {
        /* 4. Loop or one-shot. */
        double last_on = n_on ? (double)a->onsets[n_on - 1] : (double)times[nb - 1];
        double beat_s = 60.0 / bpm;
        bool to_end =
            dur - last_on <= 1.5 * beat_s + 0.05 || (!isnan(tail_db) && tail_db >= -20.0);
        int fit_beats = 0;
        double fit_dev = INFINITY;
        for (size_t i = 0; i < sizeof(loop_beats) / sizeof(loop_beats[0]); i++) {
            double cand = 60.0 * loop_beats[i] / dur;
            double dev = fabs(cand / bpm - 1.0);
            if (dev < fit_dev) {
                fit_dev = dev;
                fit_beats = loop_beats[i];
            }
        }
        double fit_bpm = 60.0 * fit_beats / dur;
        double phase = fmod((double)times[0], 60.0 / fit_bpm) / (60.0 / fit_bpm);
        bool aligned = phase < 0.12 || phase > 0.88;
        bool fits = fit_dev <= FIT_TOL && (aligned || fit_dev <= FIT_TOL_UNALIGNED);
        bool long_enough = dur >= LOOP_MIN_S && n_on + (a->onsets ? 0 : supported) >= 3;
        /* Periodic: a clear pulse, or a weaker one that a loop's shape confirms (a
         * whole number of beats within 1 %, starting on a beat, sounding to the end). */
        bool onsets_agree = !a->onsets || snapped >= MIN_SNAPPED;
        bool clear = conf >= HAS_TEMPO_CONF && supported >= MIN_SUPPORTED && onsets_agree;
        bool shaped = conf >= LOOP_SHAPED_CONF && fit_dev <= 0.01 && aligned && to_end &&
                      long_enough && onsets_agree;
        if (!clear && !shaped) {
            sm_free(times);
            work_release(&w);
            snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                     "one-shot: periodicity %.2f (%.1f BPM), %zu onset%s, %.2f s, tail %s", conf,
                     bpm, n_on, n_on == 1 ? "" : "s", dur, tail_txt);
            a->loop_confidence = fmin(0.95, 0.6 + 0.4 * (1.0 - conf / HAS_TEMPO_CONF));
            return 0;
        }
        loop = long_enough && to_end && fits;

        if (loop) {
            bpm = fit_bpm;
            double q = 1.0 - fit_dev / FIT_TOL;
            a->loop_confidence = 0.5 + 0.5 * fmin(fmax(conf, clear ? 0.0 : 0.3), 0.5 + 0.5 * q);
            snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                     "loop: periodicity %.2f, %d beats in %.3f s (%.1f BPM), %zu onsets, tail %s",
                     conf, fit_beats, dur, round1(fit_bpm), n_on, tail_txt);
        } else {
            const char *why = dur < LOOP_MIN_S ? "shorter than 1 s"
                              : !to_end          ? "stops before the end"
                              : !fits            ? "not a whole number of beats"
                                                 : "too few onsets";
            a->loop_confidence = 0.5 + 0.4 * conf;
            snprintf(a->loop_evidence, sizeof(a->loop_evidence),
                     "not a loop (%s): periodicity %.2f, %.2f s, %zu onsets, tail %s", why, conf,
                     dur, n_on, tail_txt);
        }
    }
    a->loop = loop;
    a->has_tempo = true;
    a->bpm = round1(bpm);
    if (a->bpm / 2.0 >= BPM_MIN)
        a->bpm_alternatives[a->n_bpm_alternatives++] = round1(a->bpm / 2.0);
    if (a->bpm * 2.0 <= BPM_MAX)
        a->bpm_alternatives[a->n_bpm_alternatives++] = round1(a->bpm * 2.0);
    a->beats = times;
    a->n_beats = nb;
    work_release(&w);
    return 0;
}
