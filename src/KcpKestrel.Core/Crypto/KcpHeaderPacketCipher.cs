using System.Buffers.Binary;
using System.IO.Hashing;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// kcp-go's framing for every BlockCrypt: <c>nonce[16] | crc32 u32 LE (IEEE, over the payload) | payload</c>,
/// then the whole datagram, nonce included, goes through the cipher (sess.go output / packetInput).
/// </summary>
/// <remarks>
/// The CRC can only be checked once the whole datagram is decrypted, which for the slow block ciphers
/// (3des, sm4, xtea...) costs tens of microseconds per forged 1400-byte datagram. CFB and the stream
/// ciphers decrypt a prefix without the rest, so with a <see cref="PacketCipher.PayloadCheck"/> a
/// datagram is decrypted a few blocks at a time into a stack buffer, in the cipher's own steps, until the
/// check decides; only a plausible one is decrypted in place, resuming where the prefix ended, and has
/// its CRC checked. A rejected datagram is left as it arrived.
/// </remarks>
internal abstract class KcpHeaderPacketCipher : PacketCipher
{
    /// <summary>kcp-go's nonceSize.</summary>
    public const int NonceSize = 16;

    /// <summary>kcp-go's crcSize.</summary>
    public const int CrcSize = 4;

    /// <summary>kcp-go's cryptHeaderSize.</summary>
    public const int CryptHeaderSize = NonceSize + CrcSize;

    // Room for the header, the longest prefix a check may ask for, and the cipher's rounding up to its
    // step (at most one 64-byte salsa20 block).
    private const int MaxPayloadPrefix = 64;
    private const int PrefixBufferSize = CryptHeaderSize + MaxPayloadPrefix + 64;

    private readonly NonceGenerator _nonces = new();

    public override int HeaderSize => CryptHeaderSize;

    protected sealed override void SealCore(Span<byte> packet, int payloadLength, ReadOnlySpan<byte> nonce)
    {
        if (nonce.IsEmpty)
        {
            _nonces.Fill(packet[..NonceSize]);
        }
        else
        {
            nonce[..NonceSize].CopyTo(packet);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(packet[NonceSize..], Crc32.HashToUInt32(packet[CryptHeaderSize..]));
        Encrypt(packet);
    }

    protected sealed override CipherResult OpenCore(Span<byte> datagram, ReplayWindow? replayWindow, out int payloadOffset, out int payloadLength)
    {
        payloadOffset = 0;
        payloadLength = 0;
        if (datagram.Length < CryptHeaderSize)
        {
            return CipherResult.TooShort;
        }

        // A check that could ask for more than the scratch buffer holds is not consulted.
        var check = PayloadCheck;
        if (check is null || check.MaxPrefixLength > MaxPayloadPrefix)
        {
            Decrypt(datagram, datagram, 0);
        }
        else
        {
            Span<byte> prefix = stackalloc byte[PrefixBufferSize];
            if (!TryDecryptPlausiblePrefix(check, datagram, prefix, out var decrypted))
            {
                return CipherResult.Implausible;
            }

            // The rest in place, resuming after the prefix (whose ciphertext is still there as feedback), then
            // the prefix's plaintext over its ciphertext.
            if (decrypted < datagram.Length)
            {
                Decrypt(datagram, datagram[decrypted..], decrypted);
            }

            prefix[..decrypted].CopyTo(datagram);
        }

        if (Crc32.HashToUInt32(datagram[CryptHeaderSize..]) != BinaryPrimitives.ReadUInt32LittleEndian(datagram[NonceSize..]))
        {
            return CipherResult.ChecksumMismatch;
        }

        payloadOffset = CryptHeaderSize;
        payloadLength = datagram.Length - CryptHeaderSize;
        return CipherResult.Ok;
    }

    /// <summary>
    /// Decrypts the start of <paramref name="datagram"/> into <paramref name="prefix"/>, a step at a time, until
    /// <paramref name="check"/> decides. <paramref name="decrypted"/>: how many bytes of <paramref name="prefix"/>
    /// hold plaintext (0, a resume point, or the whole datagram).
    /// </summary>
    private bool TryDecryptPlausiblePrefix(IPayloadPrefixCheck check, ReadOnlySpan<byte> datagram, Span<byte> prefix, out int decrypted)
    {
        decrypted = 0;
        var payloadLength = datagram.Length - CryptHeaderSize;
        var verdict = check.Check(default, payloadLength, out var needed);
        while (verdict == PrefixVerdict.NeedMore)
        {
            var end = Math.Min(datagram.Length, ResumePoint(CryptHeaderSize + Math.Min(needed, MaxPayloadPrefix)));
            if (end <= decrypted)
            {
                // A check that asks for nothing new cannot decide: let the CRC do it.
                return true;
            }

            var step = prefix[decrypted..end];
            datagram[decrypted..end].CopyTo(step);
            Decrypt(datagram, step, decrypted);
            decrypted = end;
            verdict = check.Check(prefix[CryptHeaderSize..decrypted], payloadLength, out needed);
        }

        return verdict == PrefixVerdict.Plausible;
    }

    /// <summary>Encrypts the whole datagram (header included) in place.</summary>
    protected abstract void Encrypt(Span<byte> datagram);

    /// <summary>
    /// Decrypts <paramref name="part"/> in place: the datagram's ciphertext from byte <paramref name="offset"/> on.
    /// <paramref name="received"/> is the datagram as it arrived, still ciphertext before <paramref name="offset"/>
    /// (CFB's feedback, salsa20's nonce); it may be the span <paramref name="part"/> lies in.
    /// <paramref name="offset"/> is 0 or a value of <see cref="ResumePoint"/>.
    /// </summary>
    protected abstract void Decrypt(ReadOnlySpan<byte> received, Span<byte> part, int offset);

    /// <summary>The first offset at or after <paramref name="length"/> where a decryption can stop and later resume.</summary>
    protected virtual int ResumePoint(int length) => length;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _nonces.Dispose();
        }

        base.Dispose(disposing);
    }
}
