using System.Security.Cryptography;
using System.Text;

namespace KcpKestrel.Core.Crypto;

/// <summary>Creates packet ciphers by kcptun's names, with keys derived as kcptun derives them.</summary>
internal static class PacketCipherFactory
{
    /// <summary>kcptun's pbkdf2 salt.</summary>
    public const string Salt = "kcp-go";

    /// <summary>kcptun's pbkdf2 iteration count.</summary>
    public const int Iterations = 4096;

    /// <summary>Length of the derived key before per-cipher truncation.</summary>
    public const int DerivedKeySize = 32;

    // The one table of modes: kcptun's, then ours (aes-256-gcm, chacha20-poly1305). A name, its key size
    // (kcptun's truncation of the derived key) and its constructor are written here and nowhere else.
    private static readonly CipherMode[] Modes =
    [
        new("aes", 32, static (name, k) => new CfbPacketCipher(name, Aes(k))),
        new("aes-128", 16, static (name, k) => new CfbPacketCipher(name, Aes(k))),
        new("aes-192", 24, static (name, k) => new CfbPacketCipher(name, Aes(k))),
        new("salsa20", 32, static (_, k) => new Salsa20PacketCipher(k)),
        new("blowfish", 32, static (name, k) => new CfbPacketCipher(name, BouncyCastleBlockEngine.Blowfish(k))),
        new("twofish", 32, static (name, k) => new CfbPacketCipher(name, BouncyCastleBlockEngine.Twofish(k))),
        new("cast5", 16, static (name, k) => new CfbPacketCipher(name, BouncyCastleBlockEngine.Cast5(k))),
        new("3des", 24, static (name, k) => new CfbPacketCipher(name, BouncyCastleBlockEngine.TripleDes(k))),
        new("tea", 16, static (name, k) => new CfbPacketCipher(name, new TeaEngine(k, 16))),
        new("xtea", 16, static (name, k) => new CfbPacketCipher(name, BouncyCastleBlockEngine.Xtea(k))),
        new("xor", 32, static (_, k) => new XorPacketCipher(k)),
        new("sm4", 16, static (name, k) => new CfbPacketCipher(name, BouncyCastleBlockEngine.Sm4(k))),
        new("none", 32, static (_, _) => new NonePacketCipher(), Keyless: true),
        new("null", 32, static (_, _) => new NullPacketCipher(), Keyless: true),
        new("aes-128-gcm", 16, static (_, k) => AeadPacketCipher.Aes128Gcm(k)),
        new("aes-256-gcm", 32, static (_, k) => AeadPacketCipher.Aes256Gcm(k)),
        new("chacha20-poly1305", 32, static (_, k) => AeadPacketCipher.ChaCha20Poly1305(k)),
    ];

    private delegate PacketCipher CipherConstructor(string name, ReadOnlySpan<byte> key);

    /// <summary>Every accepted mode name: kcptun's, then ours (aes-256-gcm, chacha20-poly1305).</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(Array.ConvertAll(Modes, static m => m.Name));

    /// <summary>Whether <paramref name="crypt"/> takes no secret: "none" (CRC only) and "null" (no header at all).</summary>
    public static bool IsKeyless(string crypt) => Find(crypt)?.Keyless ?? false;

    /// <summary>kcptun's key derivation: <c>pbkdf2(password, "kcp-go", 4096, 32, SHA-1)</c>.</summary>
    public static byte[] DeriveKey(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
#pragma warning disable CA5379, CA5387 // kcptun's derivation, fixed by interoperability.
        return Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Encoding.ASCII.GetBytes(Salt), Iterations, HashAlgorithmName.SHA1, DerivedKeySize);
#pragma warning restore CA5379, CA5387
    }

    /// <summary>How many bytes of the derived key a mode uses (kcptun's truncation).</summary>
    public static int KeySize(string crypt) => (Find(crypt) ?? throw UnknownName(crypt)).KeySize;

    /// <summary>Creates a cipher for <paramref name="crypt"/> keyed from the password <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">Unknown mode name.</exception>
    public static PacketCipher Create(string crypt, string key)
    {
        ArgumentNullException.ThrowIfNull(crypt);
        ArgumentNullException.ThrowIfNull(key);
        _ = Find(crypt) ?? throw UnknownName(crypt);
        var derived = DeriveKey(key);
        try
        {
            return CreateFromDerivedKey(crypt, derived);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
        }
    }

    /// <summary>Creates a cipher from an already derived 32-byte key, truncated per mode.</summary>
    public static PacketCipher CreateFromDerivedKey(string crypt, ReadOnlySpan<byte> derivedKey)
    {
        ArgumentNullException.ThrowIfNull(crypt);
        var size = KeySize(crypt);
        if (derivedKey.Length < size)
        {
            throw new ArgumentException($"'{crypt}' needs at least {size} key bytes, got {derivedKey.Length}.", nameof(derivedKey));
        }

        return Find(crypt)!.Create(crypt, derivedKey[..size]);
    }

    private static BlockEngine Aes(ReadOnlySpan<byte> key) => AesNiEngine.IsSupported ? new AesNiEngine(key) : BouncyCastleBlockEngine.Aes(key);

    private static CipherMode? Find(string crypt)
    {
        foreach (var mode in Modes)
        {
            if (string.Equals(mode.Name, crypt, StringComparison.Ordinal))
            {
                return mode;
            }
        }

        return null;
    }

    private static ArgumentException UnknownName(string crypt)
        => new($"Unknown crypt '{crypt}'. Accepted: {string.Join(", ", Names)}.", nameof(crypt));

    private sealed record CipherMode(string Name, int KeySize, CipherConstructor Create, bool Keyless = false);
}
