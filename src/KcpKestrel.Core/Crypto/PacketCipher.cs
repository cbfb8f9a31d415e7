namespace KcpKestrel.Core.Crypto;

/// <summary>
/// Seals and opens whole datagrams in place. One instance per I/O loop: instances keep
/// scratch state (nonce generator, feedback registers) and are not thread-safe.
/// </summary>
/// <remarks>
/// Layout handed to <see cref="Seal"/>: <c>packet[0..HeaderSize)</c> is free space for the
/// header, the payload sits at <c>packet[HeaderSize..HeaderSize+payloadLength)</c>, and
/// <see cref="TrailerSize"/> bytes after it are free for a tag. <see cref="Open(Span{byte}, out int, out int)"/>
/// never throws on bad input: it returns a drop reason and counts it.
/// </remarks>
internal abstract class PacketCipher : IDisposable
{
    private readonly long[] _drops = new long[Enum.GetValues<CipherResult>().Length];
    private bool _disposed;

    /// <summary>The kcptun name of the mode ("aes", "salsa20", "null"...).</summary>
    public abstract string Name { get; }

    /// <summary>Bytes in front of the payload: 20 for kcp-go modes (nonce + crc32), 12 for AEAD modes, 0 for "null".</summary>
    public abstract int HeaderSize { get; }

    /// <summary>Bytes after the payload: 16 for AEAD tags, else 0.</summary>
    public virtual int TrailerSize => 0;

    /// <summary><see cref="HeaderSize"/> + <see cref="TrailerSize"/>: what the mode adds to a payload.</summary>
    public int Overhead => HeaderSize + TrailerSize;

    /// <summary>True when forgeries are rejected cryptographically (AEAD), not just noise by a CRC.</summary>
    public virtual bool IsAuthenticated => false;

    /// <summary>True when <see cref="Open(Span{byte}, ReplayWindow?, out int, out int)"/> honours a replay window.</summary>
    public virtual bool SupportsReplayWindow => false;

    /// <summary>
    /// The receiver's payload structure, for modes that can reject a datagram from a decrypted prefix
    /// (kcp-go's framing, see <see cref="KcpHeaderPacketCipher"/>). Null: every datagram is decrypted whole.
    /// AEAD modes and "null" ignore it: the first verify a tag before decrypting, the second decrypts nothing.
    /// </summary>
    public IPayloadPrefixCheck? PayloadCheck { get; set; }

    /// <summary>Datagrams opened successfully by this instance.</summary>
    public long Opened { get; private set; }

    /// <summary>Datagrams sealed by this instance.</summary>
    public long Sealed { get; private set; }

    /// <summary>Datagrams dropped by this instance for <paramref name="reason"/>.</summary>
    public long GetDropCount(CipherResult reason) => _drops[(int)reason];

    /// <summary>Sum of all drops.</summary>
    public long Dropped
    {
        get
        {
            long total = 0;
            for (var i = 1; i < _drops.Length; i++)
            {
                total += _drops[i];
            }

            return total;
        }
    }

    /// <summary>
    /// Writes the header, encrypts in place and returns the datagram length
    /// (<c>HeaderSize + payloadLength + TrailerSize</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The span cannot hold header, payload and trailer (a caller bug, not bad input).</exception>
    public int Seal(Span<byte> packet, int payloadLength) => SealWithNonce(packet, payloadLength, default);

    /// <summary>
    /// <see cref="Seal"/> with a caller-chosen header nonce (16 bytes for kcp-go modes, 12 for AEAD;
    /// ignored by "null"). For known-answer tests, interop tools, and callers that make nonces unique
    /// themselves (the multicast cipher's per-sender time-based counters): a repeated nonce breaks the
    /// AEAD modes' security.
    /// </summary>
    internal int SealWithNonce(Span<byte> packet, int payloadLength, ReadOnlySpan<byte> nonce)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        var total = HeaderSize + payloadLength + TrailerSize;
        if (packet.Length < total)
        {
            throw new ArgumentException($"The packet span holds {packet.Length} bytes; header, payload and trailer need {total}.", nameof(packet));
        }

        SealCore(packet[..total], payloadLength, nonce);
        Sealed++;
        return total;
    }

    /// <summary>Decrypts and checks a datagram in place; no replay check.</summary>
    public CipherResult Open(Span<byte> datagram, out int payloadOffset, out int payloadLength)
        => Open(datagram, null, out payloadOffset, out payloadLength);

    /// <summary>
    /// Decrypts and checks a datagram in place. For modes with <see cref="SupportsReplayWindow"/>,
    /// a non-null <paramref name="replayWindow"/> (the session's) is checked before decryption and
    /// advanced only after the tag verified, so forgeries never move it. Other modes ignore it.
    /// </summary>
    public CipherResult Open(Span<byte> datagram, ReplayWindow? replayWindow, out int payloadOffset, out int payloadLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var result = OpenCore(datagram, replayWindow, out payloadOffset, out payloadLength);
        if (result == CipherResult.Ok)
        {
            Opened++;
        }
        else
        {
            _drops[(int)result]++;
            payloadOffset = 0;
            payloadLength = 0;
        }

        return result;
    }

    /// <summary>Seals <paramref name="packet"/>, already cut to header + payload + trailer; an empty <paramref name="nonce"/> means "make one".</summary>
    protected abstract void SealCore(Span<byte> packet, int payloadLength, ReadOnlySpan<byte> nonce);

    /// <summary>Opens a datagram; must not throw on any input.</summary>
    protected abstract CipherResult OpenCore(Span<byte> datagram, ReplayWindow? replayWindow, out int payloadOffset, out int payloadLength);

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Dispose(true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Releases key material and native handles.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
