using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp;
using Polly.Timeout;

namespace KcpKestrel.Cli.Bench;

/// <summary>
/// One session of the sessions workload: a ping-pong at a steady rate until the run's duration. Each round trip is
/// bounded by <see cref="SessionPlan.RoundTripTimeout"/>, so a server that vanished (nothing answers, no close
/// signal) is noticed then rather than at KCP's dead link. A session found ended early is, with
/// <see cref="SessionPlan.Redial"/>, dialed again through the same dialer (for KCP, the factory's Polly dial with
/// its retries: behind a balancer, each attempt's new source port is mapped anew) and carries on with its
/// schedule; without it, the ending is an error, as it always was.
/// </summary>
internal sealed class RedialingSession
{
    /// <summary>
    /// Dials one redial makes, each with the dialer's own retries, when the new session too ends before its first
    /// echo (it landed on an instance that was just stopping). Past them the redial has failed.
    /// </summary>
    private const int DialsPerRedial = 3;

    private readonly BenchDialer _dialer;
    private readonly SessionPlan _plan;
    private readonly SemaphoreSlim _dialGate;
    private readonly BenchProgress _progress;
    private readonly SessionTally _tally;
    private readonly byte[] _message;
    private readonly byte[] _reply;
    private readonly RttRecorder _rtts;
    private CancellationTokenSource? _roundTrip;
    private uint _sequence;

    /// <param name="dialer">Dials the session, and its redials.</param>
    /// <param name="plan">What the session does.</param>
    /// <param name="dialGate">Bounds the dials in flight over all sessions, so a server's new-session limit is not the thing measured.</param>
    /// <param name="progress">Counts round trips.</param>
    /// <param name="tally">Where the session's figures go.</param>
    public RedialingSession(BenchDialer dialer, SessionPlan plan, SemaphoreSlim dialGate, BenchProgress progress, SessionTally tally)
    {
        _dialer = dialer;
        _plan = plan;
        _dialGate = dialGate;
        _progress = progress;
        _tally = tally;
        _message = new byte[plan.Size];
        _reply = new byte[plan.Size];
        _rtts = new RttRecorder((int)Math.Clamp(plan.Duration / plan.Interval, 16, 4096));
    }

    /// <param name="phase">When in its first interval the session sends its first message (spreads the sessions out).</param>
    /// <param name="cancellationToken">The run's deadline.</param>
    public async Task RunAsync(TimeSpan phase, CancellationToken cancellationToken)
    {
        var ended = false;
        BenchConnection? connection = null;
        try
        {
            connection = await DialAsync(cancellationToken).ConfigureAwait(false);
            var began = Stopwatch.GetTimestamp();
            var next = phase;
            while (true)
            {
                var elapsed = Stopwatch.GetElapsedTime(began);
                if (elapsed >= _plan.Duration)
                {
                    break;
                }

                if (next > elapsed)
                {
                    await Task.Delay(next - elapsed, cancellationToken).ConfigureAwait(false);
                }

                if (await RoundTripAsync(connection, cancellationToken).ConfigureAwait(false) is { } ending)
                {
                    ended = true;
                    _tally.Ended(ending.How);
                    await RetireAsync(connection, abort: true).ConfigureAwait(false);
                    connection = null;
                    if (!_plan.Redial)
                    {
                        _tally.Error(ending.Message);
                        return;
                    }

                    var found = Stopwatch.GetTimestamp();
                    connection = await RedialAsync(cancellationToken).ConfigureAwait(false);
                    if (connection is null)
                    {
                        return;
                    }

                    _tally.Redialed(found);
                }

                // Behind schedule (a slow round trip, a redial): carry on from now rather than burst to catch up.
                next = TimeSpan.FromTicks(Math.Max((next + _plan.Interval).Ticks, Stopwatch.GetElapsedTime(began).Ticks));
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or TimeoutException or TimeoutRejectedException or ObjectDisposedException or InvalidDataException)
        {
            _tally.Error(e.Message);
        }
        finally
        {
            if (connection is not null)
            {
                await RetireAsync(connection, abort: false).ConfigureAwait(false);
            }

            _roundTrip?.Dispose();
            _tally.AddRtts(_rtts, kept: !ended);
        }
    }

    /// <summary>Dials anew until a session echoes; null when the redial gave up (counted as failed).</summary>
    private async Task<BenchConnection?> RedialAsync(CancellationToken cancellationToken)
    {
        for (var dial = 1; ; dial++)
        {
            BenchConnection connection;
            try
            {
                connection = await DialAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is TimeoutRejectedException or SocketException or IOException or TimeoutException)
            {
                // The dial's retries are spent (Polly rethrows the last attempt's failure).
                _tally.Failed($"a redial gave up: {e.Message}");
                return null;
            }

            // Its first echo, even when the run's duration has passed meanwhile: a redial counts once it echoed.
            if (await RoundTripAsync(connection, cancellationToken).ConfigureAwait(false) is not { } ending)
            {
                return connection;
            }

            await RetireAsync(connection, abort: true).ConfigureAwait(false);
            if (dial == DialsPerRedial)
            {
                _tally.Failed($"a redial's new sessions ended {DialsPerRedial} times before their first echo: {ending.Message}");
                return null;
            }
        }
    }

    private async Task<BenchConnection> DialAsync(CancellationToken cancellationToken)
    {
        await _dialGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _dialer.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _dialGate.Release();
        }
    }

    /// <summary>One message out and back within the round-trip timeout; how the session ended when it did not come back.</summary>
    /// <exception cref="InvalidDataException">The echo is not the message (not an ending: a fault to report).</exception>
    private async Task<(SessionEnding How, string Message)?> RoundTripAsync(BenchConnection connection, CancellationToken cancellationToken)
    {
        var sequence = _sequence;
        _roundTrip ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var bound = _roundTrip;
        bound.CancelAfter(_plan.RoundTripTimeout);
        BinaryPrimitives.WriteUInt32LittleEndian(_message, sequence);
        var stream = connection.Stream;
        var start = Stopwatch.GetTimestamp();
        try
        {
            // The write is bounded too: a full send window (nothing acknowledged) holds the flush.
            await stream.WriteAsync(_message, bound.Token).ConfigureAwait(false);
            await stream.FlushAsync(bound.Token).ConfigureAwait(false);
            await stream.ReadExactlyAsync(_reply, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && bound.IsCancellationRequested)
        {
            _roundTrip = null;
            bound.Dispose();
            var seconds = _plan.RoundTripTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
            return (SessionEnding.Timeout, $"no echo of message {sequence} within the round-trip timeout ({seconds} s)");
        }
        catch (EndOfStreamException)
        {
            // KCP ends its reads the same way for the peer's close signal and for its own verdicts: ask it which.
            // (None: TCP, or an smux stream closed on a live session.)
            var reason = connection.Session?.CloseReason ?? KcpCloseReason.None;
            var how = reason is KcpCloseReason.DeadLink or KcpCloseReason.IdleTimeout ? SessionEnding.Error : SessionEnding.Eof;
            return (how, $"the session ended at round trip {sequence} ({(reason == KcpCloseReason.None ? "end of stream" : reason)})");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A reset, or an abort (ConnectionAbortedException is an OperationCanceledException).
            return (SessionEnding.Error, $"the session ended at round trip {sequence}: {e.Message}");
        }

        bound.CancelAfter(Timeout.InfiniteTimeSpan);
        if (bound.IsCancellationRequested)
        {
            // The timer fired as the echo arrived: it came back, but the next round trip needs a fresh bound.
            _roundTrip = null;
            bound.Dispose();
        }

        _rtts.Add(start);
        _progress.Add(1);
        if (BinaryPrimitives.ReadUInt32LittleEndian(_reply) != sequence)
        {
            throw new InvalidDataException($"reply {sequence} out of order");
        }

        _sequence++;
        return null;
    }

    /// <summary>Records a connection's figures and lets it go; an ended one is aborted, so nothing waits on a dead peer.</summary>
    private async Task RetireAsync(BenchConnection connection, bool abort)
    {
        _tally.AddFigures(connection);
        if (abort)
        {
            connection.Abort();
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
