using System.Diagnostics;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Multicast;

/// <summary>
/// Counts what <c>multicast sub</c> receives against <see cref="SequencePayload"/>; completes
/// <see cref="Done"/> when the last of <c>count</c> messages arrived. Runs on the receive thread.
/// </summary>
/// <remarks>
/// A bit per expected message tells a late (reordered) message from a duplicate; at one bit a message the
/// default 100,000 cost 12 KiB, allocated before the first message.
/// </remarks>
internal sealed class SubscriberTally(long count) : IMulticastReceiver
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ulong[] _seen = new ulong[(count + 63) / 64];
    private long _next;
    private long _firstAt;
    private long _lastAt;
    private long _distinct;

    public Task Done => _done.Task;

    public long Count => count;

    public long Received { get; private set; }

    public long InOrder { get; private set; }

    public long Duplicates { get; private set; }

    /// <summary>Messages that arrived after a later one (the library delivers in order: this should stay 0).</summary>
    public long Reordered { get; private set; }

    public long Corrupt { get; private set; }

    /// <summary>Expected messages that never arrived.</summary>
    public long Lost => count - Volatile.Read(ref _distinct);

    /// <summary>Seconds from the first message to the last.</summary>
    public double Seconds => _lastAt > _firstAt ? Stopwatch.GetElapsedTime(_firstAt, _lastAt).TotalSeconds : 0;

    /// <summary>The process's CPU time (user + system) when the first message arrived.</summary>
    public TimeSpan CpuAtFirst { get; private set; }

    public void OnMessage(byte topic, ReadOnlySpan<byte> message)
    {
        _lastAt = Stopwatch.GetTimestamp();
        if (Received == 0)
        {
            _firstAt = _lastAt;
            CpuAtFirst = Environment.CpuUsage.TotalTime;
        }

        Received++;
        var index = SequencePayload.Check(message);
        if (index < 0 || index >= count)
        {
            Corrupt++;
            return;
        }

        ref var word = ref _seen[index >> 6];
        var bit = 1UL << (int)(index & 63);
        if ((word & bit) != 0)
        {
            Duplicates++;
            return;
        }

        word |= bit;
        Volatile.Write(ref _distinct, _distinct + 1);
        if (index == _next)
        {
            InOrder++;
            _next++;
        }
        else if (index < _next)
        {
            Reordered++;
        }
        else
        {
            // After an unrecoverable gap the stream resumes further on; the skipped ones count as lost.
            _next = index + 1;
        }

        if (_next >= count)
        {
            _done.TrySetResult();
        }
    }
}
