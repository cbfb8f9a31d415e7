namespace KcpKestrel.Multicast.Subscribing;

/// <summary>
/// When each missing sequence of one publisher stream was last NAKed, in a ring of the receive
/// window's size, and how long repairs take. A repair takes a round trip, and behind a deep socket
/// queue far longer: NAKing a sequence again before its repair could have arrived only makes the
/// publisher resend it twice. So each sequence waits its own retry interval: the first interval or
/// one and a half smoothed repair times, whichever is longer. The first retries wait that (a lost NAK or
/// repair is common under loss, and a long wait stalls delivery); later ones double up to a cap, so a
/// publisher that cannot answer is not hammered. The arrays are allocated at the first NAK: a stream
/// without loss never pays for them.
/// </summary>
internal sealed class NakSchedule(int capacity, long firstInterval, long maxInterval)
{
    /// <summary>Retries at the base interval before it starts doubling.</summary>
    private const int FlatRetries = 2;

    private ulong[]? _sequences;
    private long[]? _sentAt;
    private int[]? _retries;
    private long _repairTime;

    /// <summary>The smoothed time from a first NAK to its repair (0 until one was measured).</summary>
    public long RepairTime => _repairTime;

    /// <summary>Whether <paramref name="sequence"/> was never NAKed, or its retry interval has passed.</summary>
    public bool IsDue(ulong sequence, long now) => !WasNaked(sequence) || DueAt(sequence) <= now;

    /// <summary>When <paramref name="sequence"/> may be NAKed again; only meaningful once it was NAKed.</summary>
    public long DueAt(ulong sequence)
    {
        var index = Index(sequence);
        var interval = Math.Max(firstInterval, _repairTime * 3 / 2);
        var shift = Math.Clamp(_retries![index] - FlatRetries, 0, 20);
        return _sentAt![index] + Math.Min(interval << shift, maxInterval);
    }

    /// <summary>Records a NAK for <paramref name="sequence"/> sent at <paramref name="now"/>; returns when it may be NAKed again.</summary>
    public long Sent(ulong sequence, long now)
    {
        var retries = WasNaked(sequence) ? Math.Min(_retries![Index(sequence)] + 1, 30) : 0;
        _sequences ??= new ulong[capacity];
        _sentAt ??= new long[capacity];
        _retries ??= new int[capacity];
        var index = Index(sequence);
        _sequences[index] = sequence;
        _sentAt[index] = now;
        _retries[index] = retries;
        return DueAt(sequence);
    }

    /// <summary>
    /// A retransmit of <paramref name="sequence"/> arrived: a repair of a sequence NAKed once
    /// (not retried, so the NAK it answers is known) is a sample of the repair time.
    /// </summary>
    public void Repaired(ulong sequence, long now)
    {
        if (!WasNaked(sequence))
        {
            return;
        }

        var index = Index(sequence);
        if (_retries![index] == 0)
        {
            var sample = now - _sentAt![index];
            _repairTime = _repairTime == 0 ? sample : ((7 * _repairTime) + sample) / 8;
        }

        _sequences![index] = 0;
    }

    private bool WasNaked(ulong sequence) => _sequences is not null && _sequences[Index(sequence)] == sequence;

    private int Index(ulong sequence) => (int)(sequence % (ulong)capacity);
}
