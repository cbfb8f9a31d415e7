using System.Buffers.Binary;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Multicast.Security;

/// <summary>
/// <see cref="MulticastOptions.Crypt"/> on a group: AEAD sealing (<c>nonce[12] | ciphertext | tag[16]</c>,
/// the KCP transport's layout) with nonces that make replays detectable by every receiver, plus the
/// receivers' <see cref="SenderReplayTable"/>. Not thread-safe: the caller serializes
/// <see cref="Seal"/> calls, and <see cref="Open"/> runs on the receive thread only.
/// </summary>
/// <remarks>
/// The nonce is <c>sender u32 | counter u64</c> (little-endian). The sender id is the cipher instance's
/// random prefix: one per transport, so publishers and subscribers sharing a key never share a nonce
/// space (bar a 32-bit collision). The counter is <c>max(previous + 1, now in Unix µs)</c>: strictly
/// increasing, so nonces never repeat, and close to the wall clock, so a receiver can tell an old
/// packet from a new one even for a sender it has no window for. A resend is sealed again with a new
/// nonce, so a receiver need never accept the same nonce twice.
/// </remarks>
internal sealed class MulticastCipher : IDisposable
{
    /// <summary>Bytes in front of the payload: the nonce.</summary>
    public const int HeaderSize = AeadPacketCipher.NonceSize;

    /// <summary>Bytes sealing adds to a datagram.</summary>
    public const int Overhead = AeadPacketCipher.NonceSize + AeadPacketCipher.TagSize;

    private readonly AeadPacketCipher _aead;
    private readonly SenderReplayTable _replays;
    private readonly byte[] _nonce = new byte[AeadPacketCipher.NonceSize];
    private ulong _counter;

    public MulticastCipher(MulticastOptions options)
    {
        if (PacketCipherFactory.Create(options.Crypt, options.Key ?? string.Empty) is not AeadPacketCipher aead)
        {
            throw new ArgumentException($"MulticastOptions.Crypt '{options.Crypt}' is not an AEAD mode.", nameof(options));
        }

        _aead = aead;
        _replays = new SenderReplayTable(options.MaxSenders, MulticastOptions.Micros(options.MaxClockSkew));
    }

    /// <summary>This transport's sender id (the first nonce bytes of what it seals).</summary>
    public uint SenderId => _aead.SenderId;

    /// <summary>Senders with a replay window.</summary>
    public int Senders => _replays.Count;

    /// <summary>
    /// Seals <paramref name="payloadLength"/> bytes at <c>packet[HeaderSize..]</c> in place (the first
    /// <see cref="HeaderSize"/> bytes and 16 after the payload are free) and returns the datagram length.
    /// </summary>
    public int Seal(Span<byte> packet, int payloadLength, long nowUnixMicros)
    {
        _counter = Math.Max(_counter + 1, (ulong)nowUnixMicros);
        BinaryPrimitives.WriteUInt32LittleEndian(_nonce, _aead.SenderId);
        BinaryPrimitives.WriteUInt64LittleEndian(_nonce.AsSpan(4), _counter);

        // Our own nonce (not the cipher's random-start counter): unique by the rule above.
        return _aead.SealWithNonce(packet, payloadLength, _nonce);
    }

    /// <summary>
    /// Checks the tag (decrypting in place), then freshness, then records the nonce. <see cref="CipherResult.Ok"/>
    /// gives the plaintext's place; <see cref="CipherResult.Replayed"/> and <see cref="CipherResult.UnknownSender"/>
    /// (a new sender with no room) are replays or refusals; anything else is a forgery or garbage.
    /// </summary>
    public CipherResult Open(Span<byte> datagram, long nowUnixMicros, out int payloadOffset, out int payloadLength)
    {
        payloadOffset = 0;
        payloadLength = 0;
        if (!AeadPacketCipher.TryReadNonce(datagram, out var sender, out var counter))
        {
            return CipherResult.TooShort;
        }

        // The tag first: a forger can pick a fresh-looking nonce anyway, so checking freshness first would
        // save nothing against a flood, and this way a forgery is always counted as one, never as a replay.
        var opened = _aead.Open(datagram, null, out payloadOffset, out payloadLength);
        if (opened != CipherResult.Ok)
        {
            return opened;
        }

        var fresh = _replays.Check(sender, counter, nowUnixMicros);
        if (fresh != CipherResult.Ok)
        {
            return fresh;
        }

        return _replays.TryCommit(sender, counter, nowUnixMicros) ? CipherResult.Ok : CipherResult.UnknownSender;
    }

    public void Dispose() => _aead.Dispose();
}
