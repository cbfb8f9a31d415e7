namespace KcpKestrel.Cli.Bench;

/// <summary>
/// What the sessions workload reports of sessions that ended before its duration, and of their redials. With redial
/// on, every ending is either redialed or failed; without it, every ending is also an error.
/// </summary>
/// <param name="Ended">Sessions found ended early (the sum of the three kinds).</param>
/// <param name="EndedEof">Of those, ended by end-of-stream (the server's close signal).</param>
/// <param name="EndedError">Of those, ended by a reset, the dead link or the idle timeout.</param>
/// <param name="EndedTimeout">Of those, ended by the round-trip timeout.</param>
/// <param name="Redialed">Redials whose new session echoed.</param>
/// <param name="Failed">Redials that gave up (the dial's retries spent).</param>
/// <param name="RedialP50Ms">Median time from finding a session ended to the first good echo on its new one.</param>
/// <param name="RedialMaxMs">The longest of those times.</param>
/// <param name="KeptRttP99Us">RTT p99 over the sessions that never ended (the ones a drain or crash elsewhere should leave alone).</param>
/// <param name="DialAttempts">Dial attempts, retries included (a redial through a balancer to a dead instance retries).</param>
internal readonly record struct SessionEndings(
    int Ended,
    int EndedEof,
    int EndedError,
    int EndedTimeout,
    int Redialed,
    int Failed,
    double RedialP50Ms,
    double RedialMaxMs,
    double KeptRttP99Us,
    int DialAttempts);
