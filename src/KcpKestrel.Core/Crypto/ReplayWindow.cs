namespace KcpKestrel.Core.Crypto;

/// <summary>
/// A sliding anti-replay window over the 64-bit counters of one sender (RFC 6479-style ring of
/// bit words, as WireGuard keeps one). Per session, at the receiver; not thread-safe.
/// </summary>
/// <remarks>
/// The window binds to the sender prefix of the first datagram it accepts; datagrams with another
/// prefix are refused (<see cref="CipherResult.UnknownSender"/>) rather than re-binding it, so old
/// traffic of a previous sender cannot reset the window. A restarted peer gets a new session (and
/// a new window). The sender's counter is shared by all sessions of its I/O loop, so gaps are normal
/// and reordering tolerance is counted in the sender's packets, hence the generous default.
/// </remarks>
internal sealed class ReplayWindow
{
    /// <summary>Default size in datagrams (the README's 4096-datagram window).</summary>
    public const int DefaultSize = 4096;

    private readonly ulong[] _bits;
    private readonly ulong _span;
    private bool _bound;

    /// <param name="size">Datagrams in the window, a power of two of at least 128: the highest sequence and
    /// the <c>size - 1</c> before it are accepted once each, older ones refused. The ring holds one word
    /// of bits more than that, so the words of the window never alias.</param>
    public ReplayWindow(int size = DefaultSize)
    {
        if (size < 128 || (size & (size - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "The window size must be a power of two of at least 128 datagrams.");
        }

        _bits = new ulong[(size / 64) + 1];
        _span = (ulong)size;
    }

    /// <summary>Sequences this far behind <see cref="Highest"/> (and further) are refused as too old.</summary>
    public ulong Span => _span;

    /// <summary>The sender prefix the window is bound to (valid once <see cref="IsBound"/>).</summary>
    public uint Sender { get; private set; }

    /// <summary>True once a datagram has been committed.</summary>
    public bool IsBound => _bound;

    /// <summary>The highest committed sequence.</summary>
    public ulong Highest { get; private set; }

    /// <summary>Would <paramref name="sequence"/> from <paramref name="sender"/> be fresh? Changes nothing.</summary>
    public CipherResult Check(uint sender, ulong sequence)
    {
        if (!_bound)
        {
            return CipherResult.Ok;
        }

        if (sender != Sender)
        {
            return CipherResult.UnknownSender;
        }

        if (sequence > Highest)
        {
            return CipherResult.Ok;
        }

        if (Highest - sequence >= _span)
        {
            return CipherResult.Replayed;
        }

        var word = _bits[WordIndex(sequence)];
        return (word & (1UL << (int)(sequence & 63))) != 0 ? CipherResult.Replayed : CipherResult.Ok;
    }

    /// <summary>Marks <paramref name="sequence"/> as seen; call only after the datagram authenticated and <see cref="Check"/> said Ok.</summary>
    public void Commit(uint sender, ulong sequence)
    {
        if (!_bound)
        {
            _bound = true;
            Sender = sender;
            Highest = sequence;
        }
        else if (sequence > Highest)
        {
            var current = Highest >> 6;
            var target = sequence >> 6;
            var clear = Math.Min(target - current, (ulong)_bits.Length);
            for (ulong i = 1; i <= clear; i++)
            {
                _bits[WordIndex((current + i) << 6)] = 0;
            }

            Highest = sequence;
        }

        _bits[WordIndex(sequence)] |= 1UL << (int)(sequence & 63);
    }

    /// <summary><see cref="Check"/> then, when fresh, <see cref="Commit"/>.</summary>
    public CipherResult TryAccept(uint sender, ulong sequence)
    {
        var result = Check(sender, sequence);
        if (result == CipherResult.Ok)
        {
            Commit(sender, sequence);
        }

        return result;
    }

    private int WordIndex(ulong sequence) => (int)((sequence >> 6) % (ulong)_bits.Length);

    /// <summary>Forgets everything (a new session).</summary>
    public void Reset()
    {
        Array.Clear(_bits);
        _bound = false;
        Sender = 0;
        Highest = 0;
    }
}
