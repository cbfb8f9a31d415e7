namespace KcpKestrel.Multicast.Publishing;

/// <summary>
/// The publisher's history ring: the last <c>capacity</c> datagrams by sequence, in one pinned array
/// allocated up front, so a subscriber that falls behind cannot make it grow. The packet being
/// batched is built in place in its own slot (no copy on send), which is why the ring holds
/// <c>capacity - 1</c> sent packets.
/// </summary>
/// <remarks>
/// Repair-aware eviction: a packet a NAK asked for is held (its slot may not be reused) while its
/// subscribers may still be repairing it, so the publisher waits instead of overwriting it and turning
/// a late repair into an unrecoverable gap. A subscriber still missing the packet NAKs again one retry
/// interval (the <see cref="MulticastOptions.NakRetry"/> schedule: flat, then doubling up to
/// <see cref="MulticastOptions.NakRetryMax"/>) after it read the resend, and it reads it behind its
/// receive queue: the NAK lag, measured as how late first NAKs come after the send. A NAK holds its
/// packet for <c>QuietFactor</c> times that interval plus the lag, so a repair that landed frees the
/// slot soon and one that was lost again is re-NAKed before the hold runs out. No packet is held past
/// its send time plus <see cref="MulticastOptions.RepairHold"/>: whatever NAKs arrive, honest or
/// hostile, the ring still turns over at least once per hold.
/// </remarks>
internal sealed class PacketHistory
{
    // A NAK holds its packet this many times the subscriber's retry interval plus the NAK lag: room for
    // one lost NAK or resend more, and for the subscribers' scheduling being late too.
    private const int QuietFactor = 2;

    // Every packet is kept at least this many (NAK lag + first retry interval) while NAKs come: see HeldUntil.
    private const int MinAgeFactor = 2;

    private readonly byte[] _buffer;
    private readonly int[] _lengths;
    private readonly ulong[] _sequences;
    private readonly long[] _lastResend;
    private readonly long[] _sentAt;
    private readonly long[] _heldUntil;
    private readonly int[] _resends;
    private readonly long _repairHold;
    private readonly long _nakRetry;
    private readonly long _nakRetryMax;
    private long _nakLag;
    private long _nakLagAt = long.MinValue;

    /// <param name="capacity">Slots.</param>
    /// <param name="datagramSize">Bytes per slot.</param>
    /// <param name="repairHold">The longest a NAKed packet is held past its send time, µs (0: never held).</param>
    /// <param name="nakRetry">The subscribers' first NAK retry interval, µs.</param>
    /// <param name="nakRetryMax">The subscribers' longest NAK retry interval, µs.</param>
    public PacketHistory(int capacity, int datagramSize, long repairHold = 0, long nakRetry = 0, long nakRetryMax = 0)
    {
        Capacity = capacity;
        DatagramSize = datagramSize;
        _buffer = GC.AllocateUninitializedArray<byte>(capacity * datagramSize, pinned: true);
        _lengths = new int[capacity];
        _sequences = new ulong[capacity];
        _lastResend = new long[capacity];
        _sentAt = new long[capacity];
        _heldUntil = new long[capacity];
        _resends = new int[capacity];
        _repairHold = repairHold;
        _nakRetry = nakRetry;
        _nakRetryMax = nakRetryMax;
    }

    public int Capacity { get; }

    public int DatagramSize { get; }

    /// <summary>The slot of <paramref name="sequence"/>, to build the packet in.</summary>
    public Span<byte> Slot(ulong sequence) =>
        _buffer.AsSpan(Index(sequence) * DatagramSize, DatagramSize);

    /// <summary>Records that <paramref name="sequence"/>'s slot now holds a packet of <paramref name="length"/> bytes, sent at <paramref name="now"/>.</summary>
    public void Commit(ulong sequence, int length, long now)
    {
        var index = Index(sequence);
        _lengths[index] = length;
        _sequences[index] = sequence;
        _lastResend[index] = long.MinValue;
        _sentAt[index] = now;
        _heldUntil[index] = long.MinValue;
        _resends[index] = 0;
    }

    /// <summary>
    /// The oldest sequence still held when <paramref name="next"/> is the next to send and
    /// <paramref name="building"/> says whether it is being built (in the slot of the packet a ring older).
    /// </summary>
    public ulong Oldest(ulong next, bool building)
    {
        var oldest = next - (ulong)Capacity + (building ? 1UL : 0);
        return next > (ulong)Capacity ? oldest : 1;
    }

    /// <summary>The sent packet <paramref name="sequence"/>, if the ring still holds it.</summary>
    public bool TryGet(ulong sequence, out Span<byte> packet)
    {
        var index = Index(sequence);
        if (_sequences[index] != sequence)
        {
            packet = default;
            return false;
        }

        packet = _buffer.AsSpan(index * DatagramSize, _lengths[index]);
        return true;
    }

    /// <summary>
    /// Records a NAK for <paramref name="sequence"/> (held in the ring) at <paramref name="now"/> and
    /// extends its hold. False when it was resent less than <paramref name="window"/> ago (a duplicate
    /// NAK, answered by that resend already); true: resend it now.
    /// </summary>
    public bool TryMarkResend(ulong sequence, long now, long window)
    {
        var index = Index(sequence);
        var last = _lastResend[index];
        var resend = last == long.MinValue || now - last >= window;
        if (resend)
        {
            if (_resends[index] == 0)
            {
                // How late the first NAK came: the subscribers' receive queue and reorder wait.
                SampleNakLag(now - _sentAt[index], now);
            }

            _lastResend[index] = now;
            _resends[index]++;
        }

        if (_repairHold > 0)
        {
            // A subscriber still missing the packet NAKs again after its retry interval, which it
            // counts from when it reads the resend (behind its receive queue, the NAK lag). Its
            // intervals double, so the next one is at most the time since the send (it may have sent
            // more NAKs than arrived here: counting them would guess short).
            var retry = Math.Clamp(now - _sentAt[index], _nakRetry, Math.Max(_nakRetry, _nakRetryMax));
            var until = Math.Min(now + (QuietFactor * (retry + _nakLag)), _sentAt[index] + _repairHold);
            _heldUntil[index] = Math.Max(_heldUntil[index], until);
        }

        return resend;
    }

    /// <summary>
    /// Records a NAK for packets that already left the ring, whose oldest held packet is
    /// <paramref name="oldest"/>: the subscriber lags at least that packet's age.
    /// </summary>
    public void NakedGone(ulong oldest, long now)
    {
        var index = Index(oldest);
        if (_sequences[index] == oldest)
        {
            SampleNakLag(now - _sentAt[index], now);
        }
    }

    /// <summary>
    /// Until when the slot <paramref name="sequence"/> would be built in must keep the packet it holds
    /// (the one a ring earlier) for a repair; <see cref="long.MinValue"/> when it is free.
    /// </summary>
    public long HeldUntil(ulong sequence)
    {
        var index = Index(sequence);
        if (sequence <= (ulong)Capacity || _sequences[index] != sequence - (ulong)Capacity)
        {
            return long.MinValue;
        }

        // While NAKs come, packets nobody NAKed are kept too: a subscriber a NAK lag behind has not read
        // them yet, would NAK the lost ones only then, and once more a retry interval later if that NAK
        // was lost.
        var sentAt = _sentAt[index];
        var minimum = _repairHold > 0 && _nakLagAt != long.MinValue && sentAt - _nakLagAt < _repairHold
            ? Math.Min(sentAt + (MinAgeFactor * (_nakLag + _nakRetry)), sentAt + _repairHold)
            : long.MinValue;
        return Math.Max(_heldUntil[index], minimum);
    }

    private void SampleNakLag(long lag, long now)
    {
        // Up at once, down slowly, so one quick NAK does not hide a lagging subscriber.
        _nakLag = lag >= _nakLag ? lag : _nakLag - ((_nakLag - lag) / 16);
        _nakLagAt = now;
    }

    private int Index(ulong sequence) => (int)(sequence % (ulong)Capacity);
}
