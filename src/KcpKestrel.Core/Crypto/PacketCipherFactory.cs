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

    private static readonly string[] AllNames =
    [
        "aes", "aes-128", "aes-192", "salsa20", "blowfish", "twofish", "cast5", "3des", "tea", "xtea",
        "xor", "sm4", "none", "null", "aes-128-gcm", "aes-256-gcm", "chacha20-poly1305",
    ];

    /// <summary>Every accepted mode name: kcptun's, then ours (aes-256-gcm, chacha20-poly1305).</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(AllNames);

    /// <summary>kcptun's key derivation: <c>pbkdf2(password, "kcp-go", 4096, 32, SHA-1)</c>.</summary>
    public static byte[] DeriveKey(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
#pragma warning disable CA5379, CA5387 // kcptun's derivation, fixed by interoperability.
        return Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Encoding.ASCII.GetBytes(Salt), Iterations, HashAlgorithmName.SHA1, DerivedKeySize);
#pragma warning restore CA5379, CA5387
    }

    /// <summary>How many bytes of the derived key a mode uses (kcptun's truncation).</summary>
    public static int KeySize(string crypt) => crypt switch
    {
        "aes-128" or "cast5" or "tea" or "xtea" or "sm4" or "aes-128-gcm" => 16,
        "aes-192" or "3des" => 24,
        _ when IsKnown(crypt) => 32,
        _ => throw UnknownName(crypt),
    };

    /// <summary>Creates a cipher for <paramref name="crypt"/> keyed from the password <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">Unknown mode name.</exception>
    public static PacketCipher Create(string crypt, string key)
    {
        ArgumentNullException.ThrowIfNull(crypt);
        ArgumentNullException.ThrowIfNull(key);
        if (!IsKnown(crypt))
        {
            throw UnknownName(crypt);
        }

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

        var k = derivedKey[..size];
        return crypt switch
        {
            "aes" or "aes-128" or "aes-192" => new CfbPacketCipher(crypt, AesNiEngine.IsSupported ? new AesNiEngine(k) : BouncyCastleBlockEngine.Aes(k)),
            "salsa20" => new Salsa20PacketCipher(k),
            "blowfish" => new CfbPacketCipher(crypt, BouncyCastleBlockEngine.Blowfish(k)),
            "twofish" => new CfbPacketCipher(crypt, BouncyCastleBlockEngine.Twofish(k)),
            "cast5" => new CfbPacketCipher(crypt, BouncyCastleBlockEngine.Cast5(k)),
            "3des" => new CfbPacketCipher(crypt, BouncyCastleBlockEngine.TripleDes(k)),
            "tea" => new CfbPacketCipher(crypt, new TeaEngine(k, 16)),
            "xtea" => new CfbPacketCipher(crypt, BouncyCastleBlockEngine.Xtea(k)),
            "xor" => new XorPacketCipher(k),
            "sm4" => new CfbPacketCipher(crypt, BouncyCastleBlockEngine.Sm4(k)),
            "none" => new NonePacketCipher(),
            "null" => new NullPacketCipher(),
            "aes-128-gcm" => AeadPacketCipher.Aes128Gcm(k),
            "aes-256-gcm" => AeadPacketCipher.Aes256Gcm(k),
            "chacha20-poly1305" => AeadPacketCipher.ChaCha20Poly1305(k),
            _ => throw UnknownName(crypt),
        };
    }

    private static bool IsKnown(string crypt) => Array.IndexOf(AllNames, crypt) >= 0;

    private static ArgumentException UnknownName(string crypt)
        => new($"Unknown crypt '{crypt}'. Accepted: {string.Join(", ", AllNames)}.", nameof(crypt));
}
