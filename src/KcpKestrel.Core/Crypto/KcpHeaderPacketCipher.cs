using System.Buffers.Binary;
using System.IO.Hashing;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// kcp-go's framing for every BlockCrypt: <c>nonce[16] | crc32 u32 LE (IEEE, over the payload) | payload</c>,
/// then the whole datagram, nonce included, goes through the cipher (sess.go output / packetInput).
/// </summary>
internal abstract class KcpHeaderPacketCipher : PacketCipher
{
    /// <summary>kcp-go's nonceSize.</summary>
    public const int NonceSize = 16;

    /// <summary>kcp-go's crcSize.</summary>
    public const int CrcSize = 4;

    /// <summary>kcp-go's cryptHeaderSize.</summary>
    public const int CryptHeaderSize = NonceSize + CrcSize;

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

        Decrypt(datagram);
        if (Crc32.HashToUInt32(datagram[CryptHeaderSize..]) != BinaryPrimitives.ReadUInt32LittleEndian(datagram[NonceSize..]))
        {
            return CipherResult.ChecksumMismatch;
        }

        payloadOffset = CryptHeaderSize;
        payloadLength = datagram.Length - CryptHeaderSize;
        return CipherResult.Ok;
    }

    /// <summary>Encrypts the whole datagram (header included) in place.</summary>
    protected abstract void Encrypt(Span<byte> datagram);

    /// <summary>Decrypts the whole datagram in place.</summary>
    protected abstract void Decrypt(Span<byte> datagram);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _nonces.Dispose();
        }

        base.Dispose(disposing);
    }
}
