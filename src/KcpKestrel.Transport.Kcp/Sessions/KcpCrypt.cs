using KcpKestrel.Core.Crypto;

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

    public static PacketCipher Create(KcpOptions options) =>
        PacketCipherFactory.Create(options.Crypt.ToLowerInvariant(), options.Key ?? string.Empty);
}
