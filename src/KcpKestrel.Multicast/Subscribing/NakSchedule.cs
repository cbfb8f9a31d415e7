namespace KcpKestrel.Multicast.Subscribing;

/// <summary>
/// When each missing sequence of one publisher stream was last NAKed, in a ring of the receive
/// window's size. A repair takes a round trip: NAKing a sequence again before its repair could have
/// arrived only makes the publisher resend it twice, so each sequence waits its own retry interval.
/// The first retries wait the first interval (a lost NAK or repair is common under loss, and a
/// long wait stalls delivery); later ones double up to a cap, so a publisher that cannot answer is
/// not hammered. The arrays are allocated at the first NAK: a stream without loss never pays for them.
/// </summary>
internal sealed class NakSchedule(int capacity)
{
    /// <summary>Retries at the first interval before it starts doubling.</summary>
    private const int FlatRetries = 2;

    private ulong[]? _sequences;
    private long[]? _due;
    private int[]? _retries;

    /// <summary>Whether <paramref name="sequence"/> was never NAKed, or its retry interval has passed.</summary>
    public bool IsDue(ulong sequence, long now)
    {
        var index = Index(sequence);
        return _sequences is null || _sequences[index] != sequence || _due![index] <= now;
    }

    /// <summary>When <paramref name="sequence"/> may be NAKed again; only meaningful once it was NAKed.</summary>
    public long DueAt(ulong sequence) => _due![Index(sequence)];

    /// <summary>Records a NAK for <paramref name="sequence"/> sent at <paramref name="now"/>; returns when it may be NAKed again.</summary>
    public long Sent(ulong sequence, long now, long firstInterval, long maxInterval)
    {
        _sequences ??= new ulong[capacity];
        _due ??= new long[capacity];
        _retries ??= new int[capacity];
        var index = Index(sequence);
        var retries = _sequences[index] == sequence ? Math.Min(_retries[index] + 1, 30) : 0;
        var shift = Math.Max(retries - FlatRetries, 0);
        var interval = Math.Min(firstInterval << Math.Min(shift, 20), maxInterval);
        _sequences[index] = sequence;
        _retries[index] = retries;
        _due[index] = now + interval;
        return now + interval;
    }

    private int Index(ulong sequence) => (int)(sequence % (ulong)capacity);
}
