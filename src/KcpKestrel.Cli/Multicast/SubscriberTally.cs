using System.Diagnostics;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Multicast;

/// <summary>
/// Counts what <c>multicast sub</c> receives against <see cref="SequencePayload"/>; completes
/// <see cref="Done"/> when the last of <c>count</c> messages arrived. Runs on the receive thread.
/// </summary>
internal sealed class SubscriberTally(long count) : IMulticastReceiver
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _next;
    private long _firstAt;
    private long _lastAt;

    public Task Done => _done.Task;

    public long Received { get; private set; }

    public long InOrder { get; private set; }

    public long Duplicates { get; private set; }

    public long Corrupt { get; private set; }

    /// <summary>Seconds from the first message to the last.</summary>
    public double Seconds => _lastAt > _firstAt ? Stopwatch.GetElapsedTime(_firstAt, _lastAt).TotalSeconds : 0;

    public void OnMessage(byte topic, ReadOnlySpan<byte> message)
    {
        _lastAt = Stopwatch.GetTimestamp();
        _firstAt = Received == 0 ? _lastAt : _firstAt;
        Received++;
        var index = SequencePayload.Check(message);
        if (index < 0)
        {
            Corrupt++;
        }
        else if (index == _next)
        {
            InOrder++;
            _next++;
        }
        else if (index < _next)
        {
            Duplicates++;
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
