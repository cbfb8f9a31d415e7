using System.Security.Cryptography;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>The transport's view of the cipher names <see cref="PacketCipherFactory"/> knows.</summary>
internal static class KcpCrypt
{
    public static IReadOnlyList<string> Names => PacketCipherFactory.Names;

    public static bool IsKnown(string? name)
    {
        if (name is null)
        {
            return false;
        }

        foreach (var known in PacketCipherFactory.Names)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Modes that take no secret ("none", "null"), whatever the case of <paramref name="name"/>.</summary>
    public static bool IsKeyless(string? name) => name is not null && PacketCipherFactory.IsKeyless(name.ToLowerInvariant());

    // The commands our peers send besides kcp-go's: the close signal, and the address-validation pair where it applies.
    private static readonly KcpPayloadCheck PayloadCheck = new([KcpSession.CloseCommand]);
    private static readonly KcpPayloadCheck ValidatingPayloadCheck =
        new([KcpSession.CloseCommand, AddressValidation.RetryCommand, AddressValidation.TokenCommand]);

    /// <summary>
    /// The cipher for <paramref name="options"/>, with the payload check that lets kcp-go-framed modes drop a
    /// forged datagram after decrypting its first blocks.
    /// </summary>
    public static PacketCipher Create(KcpOptions options)
    {
        var derived = DeriveKey(options);
        try
        {
            return Create(options, derived);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
        }
    }

    /// <summary>
    /// kcptun's stretching of <paramref name="options"/>' secret (PBKDF2, 4096 rounds): about a millisecond, so a
    /// client derives it once and not on every dial.
    /// </summary>
    public static byte[] DeriveKey(KcpOptions options) => PacketCipherFactory.DeriveKey(options.Key ?? string.Empty);

    /// <summary>The cipher for <paramref name="options"/> from a key <see cref="DeriveKey"/> made.</summary>
    public static PacketCipher Create(KcpOptions options, ReadOnlySpan<byte> derivedKey)
    {
        var cipher = PacketCipherFactory.CreateFromDerivedKey(options.Crypt.ToLowerInvariant(), derivedKey);
        cipher.PayloadCheck = AddressValidation.AppliesTo(options, cipher) ? ValidatingPayloadCheck : PayloadCheck;
        return cipher;
    }
}
