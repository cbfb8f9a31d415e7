namespace KcpKestrel.Core.Crypto;

/// <summary>What an <see cref="IPayloadPrefixCheck"/> concludes from the decrypted start of a payload.</summary>
internal enum PrefixVerdict
{
    /// <summary>The prefix could start a datagram the receiver accepts: decrypt the rest and check the CRC.</summary>
    Plausible,

    /// <summary>No datagram the receiver accepts starts like this: drop it without decrypting the rest.</summary>
    Implausible,

    /// <summary>Undecided: decrypt at least the number of payload bytes the check asked for, then ask again.</summary>
    NeedMore,
}
