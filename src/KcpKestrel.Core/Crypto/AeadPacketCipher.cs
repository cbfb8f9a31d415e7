using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// AEAD framing: <c>nonce[12] | ciphertext | tag[16]</c>, no associated data, no CRC. This is kcp-go's
/// aes-128-gcm layout (2025, PR #324); aes-256-gcm and chacha20-poly1305 are ours with the same layout.
/// </summary>
/// <remarks>
/// We write the nonce as <c>sender u32 LE | counter u64 LE</c>: the sender prefix is random per
/// instance and the counter starts at a random value below 2^62 and counts up, so nonces never
/// repeat within an instance and instances sharing a key (every peer of a pre-shared key) collide
/// only with negligible odds. kcp-go's own aes-128-gcm senders use random nonces, so
/// <see cref="SupportsReplayWindow"/> is false for that mode. AES-GCM runs on <see cref="AesNiGcm"/>
/// where the CPU allows (else .NET's AesGcm). The .NET AEAD types report a bad tag only by throwing,
/// so chacha20-poly1305 and AES-GCM without AES-NI check the tag themselves first
/// (<see cref="ChaCha20Poly1305Tag"/>, <see cref="AesGcmTag"/>): a forged datagram costs the MAC pass and a
/// compare, never an exception, and .NET decrypts only datagrams whose tag is already verified.
/// </remarks>
internal sealed class AeadPacketCipher : PacketCipher
{
    /// <summary>Nonce bytes on the wire.</summary>
    public const int NonceSize = 12;

    /// <summary>Tag bytes on the wire.</summary>
    public const int TagSize = 16;

    private readonly AesNiGcm? _ni;
    private readonly AesGcm? _gcm;
    private readonly ChaCha20Poly1305? _chacha;
    private readonly ChaCha20Poly1305Tag? _chachaTag;
    private readonly AesGcmTag? _gcmTag;
    private readonly bool _replayProtected;
    private ulong _counter;

    private AeadPacketCipher(string name, AesNiGcm? ni, AesGcm? gcm, ChaCha20Poly1305? chacha, bool replayProtected, ChaCha20Poly1305Tag? chachaTag = null, AesGcmTag? gcmTag = null)
    {
        _chachaTag = chachaTag;
        _gcmTag = gcmTag;
        Name = name;
        _ni = ni;
        _gcm = gcm;
        _chacha = chacha;
        _replayProtected = replayProtected;
        Span<byte> seed = stackalloc byte[12];
        RandomNumberGenerator.Fill(seed);
        SenderId = BinaryPrimitives.ReadUInt32LittleEndian(seed);
        _counter = BinaryPrimitives.ReadUInt64LittleEndian(seed[4..]) >> 2;
    }

    /// <summary>kcp-go-compatible aes-128-gcm (16-byte key), no replay window.</summary>
    /// <param name="key">The 16-byte key.</param>
    /// <param name="aesNi">False forces .NET's AesGcm where <see cref="AesNiGcm"/> would run (tests, benchmarks).</param>
    public static AeadPacketCipher Aes128Gcm(ReadOnlySpan<byte> key, bool aesNi = true) => Gcm("aes-128-gcm", key, 16, replayProtected: false, aesNi);

    /// <summary>Our aes-256-gcm (32-byte key), with replay window support.</summary>
    /// <param name="key">The 32-byte key.</param>
    /// <param name="aesNi">False forces .NET's AesGcm where <see cref="AesNiGcm"/> would run (tests, benchmarks).</param>
    public static AeadPacketCipher Aes256Gcm(ReadOnlySpan<byte> key, bool aesNi = true) => Gcm("aes-256-gcm", key, 32, replayProtected: true, aesNi);

    /// <summary>Our chacha20-poly1305 (32-byte key), with replay window support.</summary>
    public static AeadPacketCipher ChaCha20Poly1305(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("chacha20-poly1305 needs a 32-byte key.", nameof(key));
        }

        if (!System.Security.Cryptography.ChaCha20Poly1305.IsSupported)
        {
            throw new PlatformNotSupportedException("ChaCha20-Poly1305 is not supported by this platform's crypto library.");
        }

        return new AeadPacketCipher("chacha20-poly1305", null, null, new System.Security.Cryptography.ChaCha20Poly1305(key), replayProtected: true, new ChaCha20Poly1305Tag(key));
    }

    private static AeadPacketCipher Gcm(string name, ReadOnlySpan<byte> key, int keySize, bool replayProtected, bool aesNi)
    {
        if (key.Length != keySize)
        {
            throw new ArgumentException($"{name} needs a {keySize}-byte key.", nameof(key));
        }

        if (aesNi && AesNiGcm.IsSupported)
        {
            return new AeadPacketCipher(name, new AesNiGcm(key), null, null, replayProtected);
        }

        var gcm = new AesGcm(key, TagSize);
        return new AeadPacketCipher(name, null, gcm, null, replayProtected, gcmTag: new AesGcmTag(gcm, key));
    }

    public override string Name { get; }

    public override int HeaderSize => NonceSize;

    public override int TrailerSize => TagSize;

    public override bool IsAuthenticated => true;

    public override bool SupportsReplayWindow => _replayProtected;

    /// <summary>This instance's random sender prefix (the first 4 nonce bytes it writes).</summary>
    public uint SenderId { get; }

    /// <summary>The counter the next sealed datagram will carry.</summary>
    public ulong NextSequence => _counter;

    /// <summary>
    /// Reads the sender prefix and counter from a sealed datagram's nonce, in clear on the wire (false when it is
    /// too short to be one). Says nothing about authenticity: open the datagram before trusting either.
    /// </summary>
    public static bool TryReadNonce(ReadOnlySpan<byte> datagram, out uint sender, out ulong counter)
    {
        sender = 0;
        counter = 0;
        if (datagram.Length < NonceSize + TagSize)
        {
            return false;
        }

        sender = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
        counter = BinaryPrimitives.ReadUInt64LittleEndian(datagram[4..]);
        return true;
    }

    /// <summary>Sender prefix of the last datagram opened successfully.</summary>
    public uint LastSender { get; private set; }

    /// <summary>Counter of the last datagram opened successfully (for callers keeping their own window).</summary>
    public ulong LastSequence { get; private set; }

    protected override void SealCore(Span<byte> packet, int payloadLength, ReadOnlySpan<byte> fixedNonce)
    {
        var nonce = packet[..NonceSize];
        if (fixedNonce.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(nonce, SenderId);
            BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _counter++);
        }
        else
        {
            fixedNonce[..NonceSize].CopyTo(nonce);
        }

        var payload = packet.Slice(NonceSize, payloadLength);
        var tag = packet.Slice(NonceSize + payloadLength, TagSize);
        if (_ni is not null)
        {
            _ni.Seal(nonce, payload, tag);
        }
        else if (_gcm is not null)
        {
            _gcm.Encrypt(nonce, payload, payload, tag);
        }
        else
        {
            _chacha!.Encrypt(nonce, payload, payload, tag);
        }
    }

    protected override CipherResult OpenCore(Span<byte> datagram, ReplayWindow? replayWindow, out int payloadOffset, out int payloadLength)
    {
        payloadOffset = 0;
        payloadLength = 0;
        if (datagram.Length < NonceSize + TagSize)
        {
            return CipherResult.TooShort;
        }

        TryReadNonce(datagram, out var sender, out var sequence);
        var window = _replayProtected ? replayWindow : null;
        if (window is not null)
        {
            var fresh = window.Check(sender, sequence);
            if (fresh != CipherResult.Ok)
            {
                return fresh;
            }
        }

        var length = datagram.Length - NonceSize - TagSize;
        var nonce = datagram[..NonceSize];
        var payload = datagram.Slice(NonceSize, length);
        var tag = datagram.Slice(NonceSize + length, TagSize);
        if (_ni is not null)
        {
            if (!_ni.Open(nonce, payload, tag))
            {
                return CipherResult.AuthenticationFailed;
            }
        }
        else if (!(_chachaTag?.Verify(nonce, payload, tag) ?? _gcmTag!.Verify(nonce, payload, tag)))
        {
            // A forgery: rejected by the compare, before the platform AEAD could throw for it.
            return CipherResult.AuthenticationFailed;
        }
        else if (!OpenWithPlatform(nonce, payload, tag))
        {
            return CipherResult.AuthenticationFailed;
        }

        window?.Commit(sender, sequence);
        LastSender = sender;
        LastSequence = sequence;
        payloadOffset = NonceSize;
        payloadLength = length;
        return CipherResult.Ok;
    }

    private bool OpenWithPlatform(ReadOnlySpan<byte> nonce, Span<byte> payload, ReadOnlySpan<byte> tag)
    {
        try
        {
            if (_gcm is not null)
            {
                _gcm.Decrypt(nonce, payload, tag, payload);
            }
            else
            {
                _chacha!.Decrypt(nonce, payload, tag, payload);
            }
        }
        catch (CryptographicException)
        {
            return false;
        }

        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ni?.Dispose();
            _gcm?.Dispose();
            _chacha?.Dispose();
        }

        base.Dispose(disposing);
    }
}
